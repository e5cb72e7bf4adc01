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
