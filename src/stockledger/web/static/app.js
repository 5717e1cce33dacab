// stockledger back office: progressive enhancement only; every page works without JavaScript.
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
    target.form.requestSubmit();
  }
});

// Long uploads and stocktakes: say what is happening and stop a second submission.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-progress")) {
    return;
  }
  if (form.dataset.busy) {
    event.preventDefault();
    return;
  }
  form.dataset.busy = "1";
  var message = form.querySelector("[data-progress-message]");
  if (message) {
    message.hidden = false;
  }
  form.setAttribute("aria-busy", "true");
});
