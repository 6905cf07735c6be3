/* The portal's only script: the htmx modal. Every page works without it. */
(function () {
  "use strict";

  function modal() {
    return document.getElementById("modal");
  }

  // Anything htmx loads into the modal body opens the modal.
  document.addEventListener("htmx:afterSwap", function (event) {
    var dialog = modal();
    if (!dialog || event.detail.target.id !== "modal-body") return;
    if (!dialog.open) dialog.showModal();
    var first = dialog.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
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
