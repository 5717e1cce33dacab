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

// The adjust form's product picker: ArrowDown moves from the search field into the matches (links
// that open the form for that variant; Enter follows the focused one), ArrowUp and Escape move back.
// Without JavaScript the Find button lists the same matches.
document.addEventListener("keydown", function (event) {
  var target = event.target;
  if (!(target instanceof HTMLElement)) {
    return;
  }
  var root = target.closest("[data-picker-root]");
  if (!root) {
    return;
  }
  var field = root.querySelector("[data-picker]");
  var links = Array.prototype.slice.call(root.querySelectorAll("a[data-choice]"));
  var index = links.indexOf(target);
  if (!field || (index < 0 && target !== field)) {
    return;
  }
  if (event.key === "ArrowDown" && links.length) {
    event.preventDefault();
    links[Math.min(index + 1, links.length - 1)].focus();
  } else if (event.key === "ArrowUp" && index >= 0) {
    event.preventDefault();
    (index === 0 ? field : links[index - 1]).focus();
  } else if (event.key === "Escape" && index >= 0) {
    event.preventDefault();
    field.focus();
  }
});
