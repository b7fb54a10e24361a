// The BMS connections page: its one <dialog> (htmx fills it), copy buttons, hiding a revealed password,
// and times in the browser's own time zone.
"use strict";

function bmsLocalTimes(root) {
  for (const time of root.querySelectorAll("time[data-local]")) {
    time.textContent = new Date(time.getAttribute("datetime")).toLocaleString();
    time.title = time.getAttribute("datetime");
  }
}

// Whatever htmx puts in the dialog's body opens the dialog (it stays open while its content changes).
document.addEventListener("htmx:afterSwap", (event) => {
  const body = document.getElementById("bms-dialog-body");
  if (event.detail.target !== body && !body.contains(event.detail.target)) return;
  bmsLocalTimes(body);
  const dialog = document.getElementById("bms-dialog");
  if (!dialog.open) dialog.showModal();
});

// A closed dialog keeps nothing: a revealed password must not stay in the page.
document.addEventListener("DOMContentLoaded", () => {
  const dialog = document.getElementById("bms-dialog");
  dialog.addEventListener("close", () => document.getElementById("bms-dialog-body").replaceChildren());
});

// Copy: the Clipboard API needs a secure context (https or localhost); a hub on http://HUB:8080 has
// none, so fall back to selecting the text and the older copy command.
async function bmsCopy(button) {
  const source = document.getElementById(button.dataset.copy);
  const text = source.textContent.trim();
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    document.execCommand("copy");
  }
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = "Copy"; }, 1500);
}

document.addEventListener("click", (event) => {
  const copy = event.target.closest("[data-copy]");
  if (copy) {
    bmsCopy(copy);
    return;
  }
  if (event.target.closest("[data-hide-password]")) {
    const slot = document.getElementById("bms-password");
    slot.replaceChildren(document.getElementById("bms-password-hidden").content.cloneNode(true));
    htmx.process(slot);
  }
});
