// "Someone else is replying": while a teammate types in the reply composer, say so to the server (renewed every
// minute) and show who else is replying. The page works without this file; the warning then shows on load.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("textarea[data-replying]");
    var warning = document.getElementById("others-replying");
    if (!box || !warning) return;
    var form = box.closest("form");
    var csrf = form ? form.querySelector('input[name="csrf"]') : null;
    var last = 0;

    function tell() {
      var now = Date.now();
      if (now - last < 60000) return;
      last = now;
      var body = new URLSearchParams();
      body.set("csrf", csrf ? csrf.value : "");
      fetch(box.getAttribute("data-replying"), { method: "POST", body: body, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { others: [] }; })
        .then(function (answer) {
          var others = answer.others || [];
          warning.hidden = others.length === 0;
          warning.textContent = others.length ? others.join(", ") + (others.length === 1 ? " is" : " are") +
            " replying to this mention now." : "";
          box.setAttribute("data-claimed", "yes");
        })
        .catch(function () { /* offline: the warning shows on the next load */ });
    }
    box.addEventListener("focus", tell);
    box.addEventListener("input", tell);
  });
})();
