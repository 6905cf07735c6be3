/* The portal's only script: the htmx modal (opening, focus kept inside, focus given back) and the
   practice switcher. Every page works without it. */
(function () {
  "use strict";

  var opener = null; // what had focus when the modal opened: it gets focus back on close

  function modal() {
    return document.getElementById("modal");
  }

  function focusables(root) {
    return Array.prototype.filter.call(
      root.querySelectorAll(
        "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])"
      ),
      function (el) { return el.offsetParent !== null || el === document.activeElement; }
    );
  }

  // Remember who asked for the modal, before htmx swaps its content in.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var dialog = modal();
    if (!dialog || dialog.open) return;
    if (event.detail.target && event.detail.target.id === "modal-body") opener = event.detail.elt;
  });

  // Anything htmx loads into the modal body opens the modal.
  document.addEventListener("htmx:afterSwap", function (event) {
    var dialog = modal();
    if (!dialog || event.detail.target.id !== "modal-body") return;
    if (!dialog.open) dialog.showModal();
    var first = dialog.querySelector(".has-error input, .has-error select, input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  });

  // Tab and Shift+Tab stay inside the open modal.
  document.addEventListener("keydown", function (event) {
    var dialog = modal();
    if (event.key !== "Tab" || !dialog || !dialog.open) return;
    var items = focusables(dialog);
    if (!items.length) return;
    var first = items[0], last = items[items.length - 1];
    if (event.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (document.activeElement === last || !dialog.contains(document.activeElement))) {
      event.preventDefault();
      first.focus();
    }
  });

  // Closing (Escape, Close, or after a save) gives focus back to what opened the modal; when a save
  // replaced it, to the same appointment or slot in the new grid, else to the calendar's heading.
  function giveFocusBack() {
    var target = opener;
    opener = null;
    if (target && !document.body.contains(target)) {
      var href = target.getAttribute("href");
      target = href ? document.querySelector('a[href="' + CSS.escape(href) + '"]') : null;
    }
    if (!target) target = document.querySelector(".week-region h2, main h1, main");
    if (target) {
      if (!target.hasAttribute("tabindex") && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) {
        target.setAttribute("tabindex", "-1");
      }
      target.focus();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var dialog = modal();
    if (dialog) dialog.addEventListener("close", giveFocusBack);
  });

  // The server says "modal-close" (HX-Trigger) after a successful save.
  document.addEventListener("modal-close", function () {
    var dialog = modal();
    if (dialog && dialog.open) dialog.close();
  });

  document.addEventListener("click", function (event) {
    var dialog = modal();
    if (!dialog) return;
    if (event.target.closest("[data-modal-close]") || event.target === dialog) {
      event.preventDefault();
      dialog.close();
    }
  });

  // Forms with data-confirm ask first (inline onsubmit handlers are refused by the CSP).
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // The practice switcher submits as soon as a practice is chosen.
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-autosubmit]")) event.target.form.requestSubmit();
  });
})();
