// The designer's live view of a deployed flow: each node's latest input and outputs, the last runs,
// dry run on/off and replay. Traces are polled once a second, and redrawn only when a new run arrived.
"use strict";

(function () {
  const D = (window.Designer = window.Designer || {});
  const POLL_MS = 1000;
  const RUNS = 10;
  let flowId = null;
  let lastRun = null;
  let timer = null;
  let shown = [];

  const text = (value) => (typeof value === "number" ? String(Math.round(value * 1000) / 1000) : JSON.stringify(value));
  const when = (epoch) => new Date(epoch * 1000).toISOString().slice(11, 19);

  function showNodes(runs) {
    const latest = new Map();
    for (const run of runs) for (const step of run.steps) latest.set(step.node_id, step);
    document.querySelectorAll("#canvas .node").forEach((box) => {
      const step = latest.get(box.dataset.id);
      const slot = box.querySelector(".node-live");
      if (!step) return void (slot.textContent = "");
      const outs = step.outputs.map((out) => `${out.port}=${text(out.value)}`).join(" ");
      slot.textContent = `${step.input.port}=${text(step.input.value)}${outs ? " → " + outs : ""}`;
    });
  }

  function showRuns(runs) {
    const list = document.getElementById("traces");
    list.replaceChildren(
      ...runs
        .slice()
        .reverse()
        .map((run) =>
          D.el(
            "li",
            { class: run.error ? "s-error" : "" },
            D.el("b", { text: `run ${run.run}` }),
            ` ${when(run.started_at)} UTC · ${run.trigger} · ${run.duration_us} µs${run.error ? " · " + run.error : ""}`,
            D.el(
              "ul",
              {},
              ...run.steps.map((step) =>
                D.el("li", {
                  text: `${step.node_id}: ${step.input.port}=${text(step.input.value)} → ${step.outputs.map((o) => `${o.port}=${text(o.value)}`).join(", ") || "nothing"} (${step.duration_us} µs)`,
                }),
              ),
            ),
          ),
        ),
    );
  }

  async function poll() {
    const response = await fetch(`/api/flows/${encodeURIComponent(flowId)}/traces?limit=${RUNS}`);
    if (response.ok) {
      const runs = (await response.json()).runs;
      const newest = runs.length ? runs[runs.length - 1].run : null;
      if (newest !== lastRun) {
        lastRun = newest;
        shown = runs;
        showNodes(runs);
        showRuns(runs);
      }
    }
    timer = setTimeout(poll, POLL_MS);
  }

  function writesList(writes) {
    if (!writes.length) return D.el("p", { class: "muted", text: "No write." });
    return D.el(
      "ul",
      { "aria-label": "Writes" },
      ...writes.map((w) =>
        D.el("li", { text: `${when(w.at)} UTC: ${w.point_id} ← ${text(w.value)} at priority ${w.priority} (${w.outcome}${w.reason ? ": " + w.reason : ""})` }),
      ),
    );
  }

  async function showDryRun() {
    const answer = await D.api("GET", `/api/flows/${encodeURIComponent(flowId)}/dry-run`);
    const button = document.getElementById("dry-run");
    if (!button) return answer.body; // a viewer's page: no dry-run control
    button.dataset.enabled = answer.ok && answer.body.dry_run ? "true" : "false";
    button.textContent = button.dataset.enabled === "true" ? "Stop dry run (go live)" : "Start dry run";
    return answer.body;
  }

  async function toggleDryRun() {
    const enabled = document.getElementById("dry-run").dataset.enabled !== "true";
    const answer = await D.api("POST", `/api/flows/${encodeURIComponent(flowId)}/dry-run`, { enabled });
    const slot = document.getElementById("replay-result");
    if (!answer.ok) {
      slot.className = "message error";
      slot.textContent = answer.body.error;
      return;
    }
    await showDryRun();
    slot.className = "message ok";
    slot.replaceChildren(enabled ? "Dry run: writes are recorded, not sent." : "Live again.", writesList(answer.body.writes));
  }

  async function replay() {
    const hours = Number(document.getElementById("replay-hours").value);
    const slot = document.getElementById("replay-result");
    slot.className = "message";
    slot.textContent = "Replaying…";
    const answer = await D.api("POST", `/api/flows/${encodeURIComponent(flowId)}/replay`, { hours });
    if (!answer.ok) {
      slot.className = "message error";
      slot.textContent = answer.body.error;
      return;
    }
    const result = answer.body;
    slot.className = result.error ? "message error" : "message ok";
    slot.replaceChildren(
      `Replay of ${when(result.start)}–${when(result.end)} UTC: ${result.samples} samples, ${result.runs} runs, ${result.writes.length} writes${result.error ? "; " + result.error : ""}.`,
      writesList(result.writes),
    );
  }

  function start(id) {
    if (flowId === id) return;
    flowId = id;
    lastRun = null;
    clearTimeout(timer);
    document.getElementById("live-panel").hidden = false;
    const dryRun = document.getElementById("dry-run");
    const replayButton = document.getElementById("replay");
    if (dryRun) dryRun.onclick = toggleDryRun; // absent for a viewer, like the replay button
    if (replayButton) replayButton.onclick = replay;
    showDryRun();
    poll();
  }

  // After the canvas is redrawn (a node added, moved or renamed), put the latest values back.
  D.live = { start, repaint: () => showNodes(shown) };
})();
