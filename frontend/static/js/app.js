// BMS Hub dashboard: the little JavaScript pages need beyond htmx.
"use strict";

// The alarm counts slot in the header: a JSON object of counts, refreshed every 10 s.
function refreshAlarmCounts(slot) {
  fetch(slot.dataset.src, { headers: { Accept: "application/json" } })
    .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
    .then((counts) => {
      const parts = Object.entries(counts).filter(([, n]) => typeof n === "number");
      slot.textContent = parts.length ? parts.map(([name, n]) => `${name} ${n}`).join(" · ") : "no alarms";
      slot.classList.toggle("active", (counts.active || 0) > 0);
    })
    .catch(() => { slot.textContent = "alarms: unavailable"; });
}

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
