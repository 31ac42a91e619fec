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

  function typing(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA");
  }

  document.addEventListener("DOMContentLoaded", function () {
    countdowns();
    setInterval(countdowns, 30000);
    items = Array.prototype.slice.call(document.querySelectorAll("li.mention"));
    if (items.length) select(0);
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
      var item = items[current] || document.querySelector("article.mention");
      if (event.key === "j") { select(current + 1); event.preventDefault(); }
      else if (event.key === "k") { select(current - 1); event.preventDefault(); }
      else if (event.key === "Enter" && items[current]) { window.location = items[current].getAttribute("data-href"); }
      else if (item && (event.key === "a" || event.key === "r")) {
        var form = item.querySelector('form[data-key="' + event.key + '"]');
        if (form) { form.submit(); event.preventDefault(); }
      } else if (item && event.key === "l") {
        var select_ = item.querySelector('form[data-key="l"] select[name="intent"]');
        if (select_) { select_.focus(); event.preventDefault(); }
      }
    });
  });
})();
