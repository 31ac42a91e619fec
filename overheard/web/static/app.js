// Keyboard triage and response-time countdowns. Everything also works without this file.
(function () {
  "use strict";

  function countdowns() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) return;
      var minutes = Math.round((due - now) / 60000);
      var span = Math.abs(minutes);
      var text = span >= 1440 ? Math.floor(span / 1440) + " d " + Math.floor((span % 1440) / 60) + " h"
        : span >= 60 ? Math.floor(span / 60) + " h " + (span % 60) + " min" : span + " min";
      var base = el.getAttribute("data-label") || el.textContent.split(" · due")[0];
      el.setAttribute("data-label", base);
      el.textContent = base + (minutes >= 0 ? " · due in " + text : " · overdue by " + text);
      el.classList.toggle("overdue", minutes < 0);
    });
  }

  var items = [];
  var current = -1;

  function select(index) {
    if (!items.length) return;
    current = Math.max(0, Math.min(items.length - 1, index));
    items.forEach(function (el, i) { el.classList.toggle("selected", i === current); });
    items[current].focus({ preventScroll: true });
    items[current].scrollIntoView({ block: "nearest" });
  }

  // The page reloads after each action: keep the selection on the mention acted on, or, when it left the
  // list (resolved, snoozed), on the one that took its place, instead of jumping back to the top.
  var KEPT = "overheard.selected";

  function remember() {
    if (!items[current]) return;
    try {
      sessionStorage.setItem(KEPT, JSON.stringify({ path: location.pathname, id: items[current].getAttribute("data-id"), index: current }));
    } catch (e) { /* storage disabled: the selection starts at the top */ }
  }

  function restore() {
    var kept = null;
    try { kept = JSON.parse(sessionStorage.getItem(KEPT) || "null"); sessionStorage.removeItem(KEPT); } catch (e) { kept = null; }
    if (!kept || kept.path !== location.pathname) return 0;
    for (var i = 0; i < items.length; i++) {
      if (items[i].getAttribute("data-id") === kept.id) return i;
    }
    return Math.min(kept.index, items.length - 1);
  }

  // Shortcuts never fire while a control has focus: Enter on a focused "Save label" button submits that form and
  // must not also open the mention (which lost the relabel), and letters typed in a field are text.
  function typing(target) {
    return !!(target && target.closest &&
      target.closest('input, select, textarea, button, a[href], summary, [contenteditable=""], [contenteditable="true"]'));
  }

  // While a form's request is on its way, say so and refuse a second click (which would act twice).
  // Forms that download a file leave the page as it is, so they are not marked busy.
  function busy(form) {
    if (form.method.toLowerCase() !== "post" || form.hasAttribute("data-download")) return;
    var button = form.querySelector("button");
    if (!button) return;
    form.setAttribute("aria-busy", "true");
    button.disabled = true;
    button.textContent = "Working…";
  }

  // Coming back with the browser's back button may show the page as it was left: busy. Undo that.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && document.querySelector('form[aria-busy="true"]')) location.reload();
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.addEventListener("submit", function (event) { if (!event.defaultPrevented) busy(event.target); });
    countdowns();
    setInterval(countdowns, 30000);
    items = Array.prototype.slice.call(document.querySelectorAll("li.mention"));
    if (items.length) select(restore());
    document.querySelectorAll("li.mention form").forEach(function (form) {
      form.addEventListener("submit", function () {
        var index = items.indexOf(form.closest("li.mention"));
        if (index >= 0) { current = index; remember(); }
      });
    });
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
      var item = items[current] || document.querySelector("article.mention");
      if (event.key === "j") { select(current + 1); event.preventDefault(); }
      else if (event.key === "k") { select(current - 1); event.preventDefault(); }
      else if (event.key === "Enter" && items[current]) { window.location = items[current].getAttribute("data-href"); }
      else if (item && (event.key === "a" || event.key === "r")) {
        var form = item.querySelector('form[data-key="' + event.key + '"]');
        if (form) { remember(); busy(form); form.submit(); event.preventDefault(); }
      } else if (item && event.key === "l") {
        var select_ = item.querySelector('form[data-key="l"] select[name="intent"]');
        if (select_) { select_.focus(); event.preventDefault(); }
      }
    });
  });
})();
