// The console's own behaviour where HTML alone is not enough: opening and
// closing dialogs, ticking countdowns, fading toasts, and holding back
// polls while a person is in a dialog (a swap would close it under them).
// Loaded from our own origin: the CSP allows no inline script.
(function () {
  "use strict";

  document.addEventListener("click", function (e) {
    var opener = e.target.closest("[data-open-dialog]");
    if (opener) {
      var dlg = document.getElementById(opener.getAttribute("data-open-dialog"));
      if (dlg && !dlg.open) {
        var err = dlg.querySelector(".dialog-error");
        if (err) err.textContent = "";
        dlg.showModal();
      }
      e.preventDefault();
      return;
    }
    var closer = e.target.closest("[data-close-dialog]");
    if (closer) {
      var parent = closer.closest("dialog");
      if (parent) parent.close();
      e.preventDefault();
    }
  });

  // A card's dialog arrives on demand into #dialog-host: open it.
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "dialog-host") {
      var dlg = e.detail.target.querySelector("dialog");
      if (dlg && !dlg.open) dlg.showModal();
    }
  });

  // A dialog's form that succeeded has done its job: close the dialog. A
  // refusal (4xx) keeps it open with the reason and the person's input.
  document.addEventListener("htmx:afterRequest", function (e) {
    var dlg = e.detail.elt && e.detail.elt.closest && e.detail.elt.closest("dialog");
    if (dlg && dlg.open && e.detail.successful) dlg.close();
  });

  document.addEventListener("htmx:beforeRequest", function (e) {
    var elt = e.detail.elt;
    var trigger = (elt && elt.getAttribute && elt.getAttribute("hx-trigger")) || "";
    if (trigger.indexOf("every") === 0 && document.querySelector("dialog[open]")) {
      e.preventDefault();
    }
  });

  function fmt(el, ms) {
    var mins = Math.round(ms / 60000);
    if (mins <= 0) return el.getAttribute("data-fmt-due");
    var h = Math.floor(mins / 60), m = mins % 60;
    var t = h > 0 ? el.getAttribute("data-fmt-hm") : el.getAttribute("data-fmt-m");
    return t.replace("{h}", String(h)).replace("{m}", String(m));
  }
  function tick() {
    document.querySelectorAll("[data-countdown-to]").forEach(function (el) {
      var at = Date.parse(el.getAttribute("data-countdown-to"));
      if (!isNaN(at)) el.textContent = fmt(el, at - Date.now());
    });
  }
  setInterval(tick, 20000);

  function armToasts() {
    document.querySelectorAll("#toasts .toast:not([data-armed])").forEach(function (t) {
      t.setAttribute("data-armed", "1");
      setTimeout(function () { t.remove(); }, 6000);
    });
  }
  document.addEventListener("htmx:afterSettle", armToasts);
  document.addEventListener("htmx:oobAfterSwap", armToasts);
  document.addEventListener("DOMContentLoaded", armToasts);
})();
