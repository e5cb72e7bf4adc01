// Mijn omgeving: warn two minutes before the session ends for inactivity; "Ingelogd blijven" asks
// the server (GET /mijn/sessie), which counts as activity. No inline scripts (CSP).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="dgkb-idle-seconds"]');
  var dialog = document.getElementById("mijn-idle");
  if (!meta || !dialog) return;
  var idle = parseInt(meta.getAttribute("content"), 10) * 1000;
  var warnBefore = Math.min(120000, idle / 2);
  var warnTimer, endTimer;
  function schedule() {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    warnTimer = setTimeout(function () { if (!dialog.open) dialog.showModal(); }, idle - warnBefore);
    endTimer = setTimeout(function () { window.location.href = "/mijn/inloggen"; }, idle);
  }
  dialog.querySelector("[data-idle-stay]").addEventListener("click", function () {
    fetch("/mijn/sessie", { credentials: "same-origin" }).then(function (r) {
      if (r.status === 204) { dialog.close(); schedule(); } else { window.location.href = "/mijn/inloggen"; }
    });
  });
  document.body.addEventListener("htmx:afterRequest", schedule);
  schedule();
})();

// The menu on a phone: folded behind the "Menu" button (progressive: without this script the whole
// menu shows). On wider screens the CSS shows the menu and hides the button.
(function () {
  "use strict";
  var button = document.querySelector(".mijn-menu-knop");
  var nav = document.getElementById("mijn-nav");
  if (!button || !nav) return;
  button.hidden = false;
  nav.classList.add("mijn-nav--dicht");
  button.addEventListener("click", function () {
    var open = button.getAttribute("aria-expanded") === "true";
    button.setAttribute("aria-expanded", open ? "false" : "true");
    nav.classList.toggle("mijn-nav--dicht", open);
    if (!open) { var first = nav.querySelector("a"); if (first) first.focus(); }
  });
})();
