/* DGKB console behaviour. No inline scripts anywhere (CSP script-src 'self'); htmx does the requests. */
(function () {
  "use strict";

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  /* running contact timers: <span data-started="ISO"> */
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-started]").forEach(function (el) {
      var started = Date.parse(el.getAttribute("data-started"));
      if (isNaN(started)) { return; }
      var s = Math.max(0, Math.floor((now - started) / 1000));
      var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
      el.textContent = (h ? h + ":" + pad(m) : pad(m)) + ":" + pad(sec);
    });
  }

  function typing(el) {
    if (!el) { return false; }
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  function focusFirst(selector) {
    var el = document.querySelector(selector);
    if (el) { el.focus(); el.scrollIntoView({ block: "center" }); return true; }
    return false;
  }

  /* keyboard shortcuts: / search, n new contact, r register, Esc closes a drawer */
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) { return; }
    if (ev.key === "/") {
      if (focusFirst("[data-shortcut-search]") || focusFirst("#doel-filter")) { ev.preventDefault(); }
    } else if (ev.key === "n") {
      if (!focusFirst("#nieuw-contact-kanaal")) { window.location.assign("/"); }
      ev.preventDefault();
    } else if (ev.key === "r") {
      if (focusFirst("[data-shortcut-register]")) { ev.preventDefault(); }
    }
  });

  document.addEventListener("click", function (ev) {
    var target = ev.target instanceof Element ? ev.target : null;
    if (!target) { return; }
    var opener = target.closest("[data-open-dialog]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-open-dialog"));
      if (dialog && typeof dialog.showModal === "function") { dialog.showModal(); }
      return;
    }
    var closer = target.closest("[data-close-dialog]");
    if (closer) { var d = closer.closest("dialog"); if (d) { d.close(); } return; }
    var dismiss = target.closest("[data-dismiss]");
    if (dismiss) { var box = dismiss.closest(".dgkb-alert"); if (box) { box.remove(); } return; }
    var add = target.closest("[data-add-question]");
    if (add) { addQuestion(add); }
  });

  /* one more question block in the registration form, from its <template> */
  function addQuestion(button) {
    var form = button.closest("form");
    var list = form && form.querySelector("#vragen");
    var tpl = form && form.querySelector("#vraag-template");
    if (!list || !tpl) { return; }
    var n = list.querySelectorAll("[data-question]").length;
    var max = parseInt(list.getAttribute("data-max") || "10", 10);
    if (n >= max) { return; }
    var html = tpl.innerHTML.split("__NUM__").join(String(n + 1)).split("__N__").join(String(n));
    list.insertAdjacentHTML("beforeend", html);
    var blocks = list.querySelectorAll("[data-question]");
    var select = blocks[blocks.length - 1].querySelector("select");
    if (select) { select.focus(); }
  }

  document.addEventListener("change", function (ev) {
    var el = ev.target;
    if (el instanceof HTMLInputElement && el.hasAttribute("data-toggle")) {
      var target = document.getElementById(el.getAttribute("data-toggle"));
      if (target) { target.hidden = !el.checked; }
    }
  });

  /* filter a list as you type: <input data-filter> inside [data-filter-scope] with [data-filter-item] */
  document.addEventListener("input", function (ev) {
    var el = ev.target;
    if (!(el instanceof HTMLInputElement) || !el.hasAttribute("data-filter")) { return; }
    var scope = el.closest("[data-filter-scope]");
    var q = el.value.trim().toLowerCase();
    if (!scope) { return; }
    scope.querySelectorAll("[data-filter-item]").forEach(function (item) {
      item.hidden = q !== "" && item.textContent.toLowerCase().indexOf(q) === -1;
    });
  });

  document.addEventListener("htmx:beforeRequest", function (ev) {
    var messages = document.getElementById("meldingen");
    var source = ev.detail && ev.detail.elt;
    if (messages && source && !(source.id === "klantbeeld")) { messages.innerHTML = ""; }
  });


  // Live updates: the server announces which permitted sections of this customer changed (SSE);
  // the klantbeeld re-renders in place and marks those sections "bijgewerkt".
  var live = null;
  var changed = [];
  function follow() {
    var kb = document.getElementById("klantbeeld");
    var url = kb && kb.getAttribute("hx-get");
    if (!url || !window.EventSource) { return; }
    var stream = url.replace(/\/klantbeeld$/, "/gebeurtenissen");
    if (live && live.url.indexOf(stream) !== -1) { return; }
    if (live) { live.close(); }
    // a view with parts still loading names the moment it was read: a late answer that came before
    // this stream connected is replayed, not lost
    var since = kb.querySelector("[data-live-sinds]");
    live = new EventSource(stream + (since ? "?sinds=" + encodeURIComponent(since.getAttribute("data-live-sinds")) : ""));
    live.addEventListener("bijgewerkt", function (ev) {
      var data = {};
      try { data = JSON.parse(ev.data) || {}; } catch (e) { data = {}; }
      // "nalevering": a slow source answered after all — its part fills in, nothing changed at the source
      if (data.bron !== "nalevering") { changed = changed.concat(data.categorieen || []); }
      if (window.htmx) { window.htmx.trigger(document.body, "klantbeeld-vernieuwen"); }
    });
    live.addEventListener("beeindigd", function () { live.close(); live = null; });
  }
  function markChanged(target) {
    if (!changed.length) { return; }
    changed.forEach(function (cat) {
      target.querySelectorAll('[data-categorie="' + cat + '"]').forEach(function (section) {
        section.classList.add("dgkb-section--bijgewerkt");
        var head = section.querySelector(".dgkb-section__head");
        if (head && !head.querySelector(".dgkb-bijgewerkt")) {
          var badge = document.createElement("span");
          badge.className = "dgkb-bijgewerkt";
          badge.setAttribute("role", "status");
          badge.textContent = "bijgewerkt";
          head.appendChild(badge);
        }
      });
    });
    changed = [];
  }

  document.addEventListener("htmx:afterSettle", function (ev) {
    var target = ev.detail && ev.detail.target;
    follow();
    if (target && target.id === "klantbeeld") { markChanged(target); }
    if (target && target.querySelector) {
      var auto = target.querySelector("[data-autofocus]");
      if (auto) { auto.focus(); }
      if (target.querySelector("[data-klantbeeld-geladen]")) {
        target.setAttribute("aria-busy", "false");
        if (window.performance && performance.mark) { performance.mark("klantbeeld-geladen"); }
      }
    }
    tick();
  });

  document.addEventListener("htmx:responseError", function () {
    var messages = document.getElementById("meldingen");
    if (messages) {
      messages.innerHTML = '<div class="utrecht-alert utrecht-alert--error dgkb-alert" role="alert"><div class="utrecht-alert__content"><p class="utrecht-alert__message utrecht-paragraph">Dat lukte niet. Probeer het opnieuw of laad de pagina opnieuw.</p></div></div>';
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    follow();
    tick();
    window.setInterval(tick, 1000);
  });
})();
