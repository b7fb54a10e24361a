// BMS Hub dashboard: the little JavaScript pages need beyond htmx.
"use strict";

// The alarm counts in the header, a link to the alarm console: active alarms per severity in their
// colours (shelved ones only as shelved), then unacknowledged and shelved ones. Refreshed every
// 10 s, and at once when an alarm page hears that alarms changed.
const SEVERITIES = ["critical", "major", "minor", "info"];

function alarmChip(className, text) {
  const chip = document.createElement("span");
  chip.className = className;
  chip.textContent = text;
  return chip;
}

function showAlarmCounts(slot, counts) {
  const bySeverity = counts.active_by_severity || {};
  const chips = SEVERITIES.filter((s) => bySeverity[s] > 0)
    .map((s) => alarmChip(`sev-chip sev-${s}`, `${bySeverity[s]} ${s}`));
  const waiting = counts.unacknowledged - (counts.by_state?.active_unacked || 0); // cleared, unacknowledged
  if (waiting > 0) chips.push(alarmChip("sev-chip unacked", `${waiting} to acknowledge`));
  if (counts.shelved > 0) chips.push(alarmChip("sev-chip shelved", `${counts.shelved} shelved`));
  const words = chips.map((chip) => chip.textContent);
  const target = slot.querySelector(".counts") || slot;
  target.replaceChildren(...(chips.length ? chips : [alarmChip("sev-chip clear", "No alarms")]));
  slot.classList.toggle("active", SEVERITIES.some((s) => bySeverity[s] > 0));
  slot.setAttribute("aria-label", `Alarms: ${words.length ? words.join(", ") : "none"}. Open the alarm console`);
}

function refreshAlarmCounts(slot) {
  fetch(slot.dataset.src, { headers: { Accept: "application/json" } })
    .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
    .then((counts) => showAlarmCounts(slot, counts))
    .catch(() => {
      (slot.querySelector(".counts") || slot).textContent = "alarms: unavailable";
      slot.setAttribute("aria-label", "Alarms: counts unavailable. Open the alarm console");
    });
}

// An alarm page's live feed says alarms changed: the header follows at once.
document.addEventListener("sse:alarms", () => {
  const slot = document.getElementById("alarm-counts");
  if (slot) refreshAlarmCounts(slot);
});

document.addEventListener("DOMContentLoaded", () => {
  const slot = document.getElementById("alarm-counts");
  if (slot) {
    refreshAlarmCounts(slot);
    setInterval(() => refreshAlarmCounts(slot), 10000);
  }
});

// A row swapped in by the live feed flashes its value once.
document.addEventListener("htmx:sseMessage", (event) => {
  const row = document.getElementById(event.detail.elt.id);
  if (row) {
    row.classList.remove("live-flash");
    void row.offsetWidth; // restart the animation
    row.classList.add("live-flash");
  }
});

// Say whether the live feed is connected (tests and people both look at it).
function setLiveState(state, text) {
  document.body.dataset.live = state;
  const label = document.getElementById("live-state");
  if (label) label.textContent = text;
}
document.addEventListener("htmx:sseOpen", () => setLiveState("open", "live"));
document.addEventListener("htmx:sseError", () => setLiveState("error", "reconnecting…"));
