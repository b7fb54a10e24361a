// The flow designer: a palette, a canvas of nodes (positioned divs) wired by SVG edges, save/validate/deploy.
// The page's JSON (#designer-data) holds the flow's model, the palette and, for an instance, its blueprint.
"use strict";

const D = (window.Designer = window.Designer || {});

D.csrfHeaders = function () {
  return JSON.parse(document.body.getAttribute("hx-headers") || "{}");
};

D.api = async function (method, url, body) {
  const response = await fetch(url, {
    method,
    headers: { "Content-Type": "application/json", ...D.csrfHeaders() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let answer = {};
  try { answer = await response.json(); } catch (err) { answer = { error: `${response.status} ${response.statusText}` }; }
  return { ok: response.ok, status: response.status, body: answer };
};

D.message = function (text, kind) {
  const slot = document.getElementById("designer-message");
  slot.className = `message ${kind}`;
  slot.setAttribute("role", kind === "error" ? "alert" : "status");
  slot.textContent = text;
};

// An output of type `source` may feed an input of type `target` (hub/flows/node.py PortType.accepts).
D.accepts = function (target, source) {
  return target === "any" || source === "any" || target === source;
};

function el(tag, attrs, ...children) {
  const made = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "text") made.textContent = value;
    else if (value !== undefined && value !== null) made.setAttribute(key, value);
  }
  made.append(...children.filter((child) => child !== null && child !== undefined));
  return made;
}
D.el = el;

// -- the model ---------------------------------------------------------------------------------------

function nodeById(id) {
  return D.nodes().find((node) => node.id === id);
}

D.nodes = function () {
  return D.instance ? (D.data.blueprint ? D.data.blueprint.nodes : []) : D.model.nodes;
};

function edges() {
  return D.instance ? (D.data.blueprint ? D.data.blueprint.edges : []) : D.model.edges;
}

function freshId(type) {
  let n = 1;
  while (nodeById(`${type}_${n}`)) n += 1;
  return `${type}_${n}`;
}

function addNode(type, x, y) {
  const node = { id: freshId(type), type, parameters: {}, ui: { x: Math.round(x), y: Math.round(y) } };
  D.model.nodes.push(node);
  render();
  select({ kind: "node", id: node.id });
}

function connect(source, target) {
  const from = `${source.node}.${source.port}`;
  const to = `${target.node}.${target.port}`;
  if (!D.accepts(target.type, source.type)) {
    D.message(
      `Cannot connect ${from} (${source.type}) to ${to} (${target.type}): ` +
        `a ${target.type} input takes ${target.type} or any values only.`,
      "error",
    );
    return;
  }
  if (D.model.edges.some((edge) => edge.from === from && edge.to === to)) return;
  D.model.edges.push({ from, to });
  D.message(`Connected ${from} → ${to}.`, "ok");
  drawEdges();
}

D.renameNode = function (node, id) {
  for (const edge of D.model.edges) {
    for (const end of ["from", "to"]) {
      const [owner, port] = edge[end].split(".");
      if (owner === node.id) edge[end] = `${id}.${port}`;
    }
  }
  node.id = id;
  D.selected = { kind: "node", id };
  render();
};

function deleteSelected() {
  if (!D.selected || D.instance) return;
  if (D.selected.kind === "node") {
    const id = D.selected.id;
    D.model.nodes = D.model.nodes.filter((node) => node.id !== id);
    D.model.edges = D.model.edges.filter((edge) => !edge.from.startsWith(`${id}.`) && !edge.to.startsWith(`${id}.`));
  } else {
    D.model.edges.splice(D.selected.index, 1);
  }
  select(null);
  render();
}
D.deleteSelected = deleteSelected;

// -- drawing -------------------------------------------------------------------------------------------

const canvas = () => document.getElementById("canvas");

function portEl(node, dir, port) {
  const type = port.type;
  return el(
    "span",
    { class: `port ${dir}`, "data-node": node.id, "data-port": port.name, "data-type": type, title: `${port.name} (${type}) ${port.description || ""}`.trim() },
    el("span", { class: "dot", "aria-hidden": "true" }),
    el("span", { class: "port-name", text: port.name }),
  );
}

function nodeEl(node) {
  const def = D.types.get(node.type) || { inputs: [], outputs: [], category: "unknown" };
  const box = el(
    "div",
    { class: `node cat-${def.category}`, "data-id": node.id, role: "group", "aria-label": `node ${node.id}` },
    el("div", { class: "node-head" }, el("b", { text: node.id }), el("small", { text: node.type })),
    el(
      "div",
      { class: "node-ports" },
      el("div", { class: "ins" }, ...def.inputs.map((port) => portEl(node, "in", port))),
      el("div", { class: "outs" }, ...def.outputs.map((port) => portEl(node, "out", port))),
    ),
    el("div", { class: "node-live", "aria-label": `live values of ${node.id}` }),
    el("div", { class: "node-error" }),
  );
  const ui = node.ui || {};
  box.style.left = `${ui.x ?? 20}px`;
  box.style.top = `${ui.y ?? 20}px`;
  if (D.selected && D.selected.kind === "node" && D.selected.id === node.id) box.classList.add("selected");
  return box;
}

function layoutMissing() {
  // Nodes written without a position get one in a grid, left to right.
  D.nodes().forEach((node, index) => {
    if (!node.ui || node.ui.x === undefined) node.ui = { x: 20 + (index % 4) * 220, y: 20 + Math.floor(index / 4) * 140 };
  });
}

function render() {
  const area = canvas();
  area.querySelectorAll(".node").forEach((box) => box.remove());
  for (const node of D.nodes()) area.append(nodeEl(node));
  drawEdges();
  D.showIssues(D.issues || []);
  if (D.live) D.live.repaint();
}
D.render = render;

function portCenter(selector) {
  const port = canvas().querySelector(selector);
  if (!port) return null;
  const dot = port.querySelector(".dot").getBoundingClientRect();
  const area = canvas().getBoundingClientRect();
  return { x: dot.left + dot.width / 2 - area.left + canvas().scrollLeft, y: dot.top + dot.height / 2 - area.top + canvas().scrollTop };
}

function curve(a, b) {
  const bend = Math.max(40, Math.abs(b.x - a.x) / 2);
  return `M${a.x},${a.y} C${a.x + bend},${a.y} ${b.x - bend},${b.y} ${b.x},${b.y}`;
}

function endSelector(end, dir) {
  const [node, port] = end.split(".");
  return `.port.${dir}[data-node="${CSS.escape(node)}"][data-port="${CSS.escape(port)}"]`;
}

function drawEdges() {
  const svg = document.getElementById("edges");
  const area = canvas();
  svg.setAttribute("width", area.scrollWidth);
  svg.setAttribute("height", area.scrollHeight);
  svg.replaceChildren();
  edges().forEach((edge, index) => {
    const a = portCenter(endSelector(edge.from, "out"));
    const b = portCenter(endSelector(edge.to, "in"));
    if (!a || !b) return;
    const selected = D.selected && D.selected.kind === "edge" && D.selected.index === index;
    for (const kind of ["edge-hit", "edge"]) { // a wide transparent stroke under the line makes it easy to click
      const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
      path.setAttribute("d", curve(a, b));
      path.setAttribute("class", `${kind}${selected ? " selected" : ""}`);
      path.dataset.index = index;
      path.dataset.edge = `${edge.from} -> ${edge.to}`;
      svg.append(path);
    }
  });
}

// -- selection and the inspector ------------------------------------------------------------------------

function select(what) {
  D.selected = what;
  canvas().querySelectorAll(".node").forEach((box) => box.classList.toggle("selected", !!what && what.kind === "node" && box.dataset.id === what.id));
  drawEdges();
  const inspector = document.querySelector(".inspector");
  if (D.instance) {
    inspector.replaceChildren(D.form.instance(D.model, D.data.blueprint));
  } else if (what && what.kind === "node") {
    const node = nodeById(what.id);
    inspector.replaceChildren(D.form.node(node, D.types.get(node.type)));
    D.form.showIssues(D.issues || []);
  } else if (what && what.kind === "edge") {
    const edge = D.model.edges[what.index];
    inspector.replaceChildren(
      el("h2", { text: "Edge" }),
      el("p", { text: `${edge.from} → ${edge.to}` }),
      el("button", { type: "button", class: "danger", "data-action": "delete", text: "Delete edge" }),
    );
  } else {
    inspector.replaceChildren(el("p", { class: "muted", text: "Select a node to edit it, or drag a node type from the palette onto the canvas." }));
  }
  const remove = inspector.querySelector('[data-action="delete"]');
  if (remove) remove.addEventListener("click", deleteSelected);
}
D.select = select;

// -- pointer interactions -------------------------------------------------------------------------------

function drag(onMove, onUp) {
  const move = (event) => onMove(event);
  const up = (event) => {
    document.removeEventListener("pointermove", move);
    document.removeEventListener("pointerup", up);
    onUp(event);
  };
  document.addEventListener("pointermove", move);
  document.addEventListener("pointerup", up);
}

function canvasPoint(event) {
  const area = canvas().getBoundingClientRect();
  return { x: event.clientX - area.left + canvas().scrollLeft, y: event.clientY - area.top + canvas().scrollTop, inside: event.clientX >= area.left && event.clientX <= area.right && event.clientY >= area.top && event.clientY <= area.bottom };
}

function startAdd(event, type) {
  event.preventDefault();
  if (D.instance) return D.message("An instance takes its nodes from its blueprint: edit the blueprint instead.", "error");
  const ghost = el("div", { class: "node ghost", text: type });
  document.body.append(ghost);
  const place = (e) => { ghost.style.left = `${e.pageX + 4}px`; ghost.style.top = `${e.pageY + 4}px`; };
  place(event);
  drag(place, (e) => {
    ghost.remove();
    const at = canvasPoint(e);
    if (at.inside) addNode(type, Math.max(0, at.x - 60), Math.max(0, at.y - 16));
  });
}

function startMove(event, node) {
  event.preventDefault();
  const box = event.target.closest(".node");
  const start = canvasPoint(event);
  const origin = { x: node.ui.x, y: node.ui.y };
  select({ kind: "node", id: node.id });
  drag(
    (e) => {
      const at = canvasPoint(e);
      node.ui = { x: Math.max(0, Math.round(origin.x + at.x - start.x)), y: Math.max(0, Math.round(origin.y + at.y - start.y)) };
      box.style.left = `${node.ui.x}px`;
      box.style.top = `${node.ui.y}px`;
      drawEdges();
    },
    () => {},
  );
}

function startConnect(event, port) {
  event.preventDefault();
  const source = { node: port.dataset.node, port: port.dataset.port, type: port.dataset.type };
  const a = portCenter(endSelector(`${source.node}.${source.port}`, "out"));
  const line = document.createElementNS("http://www.w3.org/2000/svg", "path");
  line.setAttribute("class", "edge pending");
  document.getElementById("edges").append(line);
  drag(
    (e) => line.setAttribute("d", curve(a, canvasPoint(e))),
    (e) => {
      line.remove();
      const target = document.elementFromPoint(e.clientX, e.clientY);
      const input = target && target.closest(".port.in");
      if (input) connect(source, { node: input.dataset.node, port: input.dataset.port, type: input.dataset.type });
    },
  );
}

function onCanvasPointerDown(event) {
  if (D.instance) return;
  const out = event.target.closest(".port.out");
  if (out) return startConnect(event, out);
  const box = event.target.closest(".node");
  if (box) return startMove(event, nodeById(box.dataset.id));
  const path = event.target.closest("path.edge, path.edge-hit");
  if (path) return select({ kind: "edge", index: Number(path.dataset.index) });
  select(null);
}

// -- palette ------------------------------------------------------------------------------------------

// "Sends ... e.g. `5m`. More." -> "Sends ... e.g. `5m`." (an abbreviation is not the end of a sentence).
function firstSentence(text) {
  const found = text.match(/^.*?[^.]{3}[.!?](?=\s+[A-Z]|$)/);
  return found ? found[0] : text;
}

function renderPalette() {
  const aside = document.querySelector(".palette");
  const groups = new Map();
  for (const def of D.data.palette) {
    if (!groups.has(def.category)) groups.set(def.category, []);
    groups.get(def.category).push(def);
  }
  aside.replaceChildren(el("h2", { text: "Palette" }));
  for (const [category, defs] of groups) {
    const list = el("ul", { "aria-label": category });
    for (const def of defs) {
      const item = el(
        "li",
        { class: `palette-item cat-${category}`, "data-type": def.type, title: def.description, tabindex: "0" },
        el("b", { text: def.type }),
        el("small", { text: firstSentence(def.description) }),
      );
      item.addEventListener("pointerdown", (event) => startAdd(event, def.type));
      item.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && !D.instance) addNode(def.type, 20 + D.model.nodes.length * 24, 20 + D.model.nodes.length * 24);
      });
      list.append(item);
    }
    aside.append(el("details", { open: "" }, el("summary", { text: category }), list));
  }
}

// -- issues -------------------------------------------------------------------------------------------

D.showIssues = function (issues) {
  D.issues = issues;
  const list = document.getElementById("issues");
  list.replaceChildren();
  canvas().querySelectorAll(".node").forEach((box) => {
    box.classList.remove("has-error", "has-warning");
    box.querySelector(".node-error").textContent = "";
  });
  for (const issue of issues) {
    const box = issue.node_id && canvas().querySelector(`.node[data-id="${CSS.escape(issue.node_id)}"]`);
    if (box) {
      box.classList.add(issue.severity === "warning" ? "has-warning" : "has-error");
      box.querySelector(".node-error").append(el("div", { text: issue.message }));
    }
    const where = [issue.line ? `line ${issue.line}` : "", issue.node_id ? `node ${issue.node_id}` : ""].filter(Boolean).join(", ");
    list.append(el("li", { class: `s-${issue.severity}`, text: `${where ? where + ": " : ""}${issue.message}` }));
  }
  document.getElementById("issues-panel").hidden = issues.length === 0;
  if (D.form) D.form.showIssues(issues);
};

// -- save and deploy ------------------------------------------------------------------------------------

function currentModel() {
  D.model.flow.id = document.getElementById("flow-id").value.trim();
  D.model.flow.name = document.getElementById("flow-name").value.trim();
  const model = { flow: D.model.flow, parameters: D.model.parameters || {} };
  if (D.instance) model.use_blueprint = D.model.use_blueprint;
  else Object.assign(model, { nodes: D.model.nodes, edges: D.model.edges });
  return model;
}

D.save = async function () {
  const answer = await D.api("POST", "/flows/yaml", { model: currentModel(), file: D.data.file });
  if (!answer.ok) {
    D.message(answer.body.error || "the flow could not be saved", "error");
    return null;
  }
  document.getElementById("yaml").textContent = answer.body.yaml;
  D.showIssues(answer.body.issues);
  const errors = answer.body.issues.filter((issue) => issue.severity === "error").length;
  D.message(errors ? `Saved as ${answer.body.file}: ${errors} error(s) to fix before deploying.` : `Saved as ${answer.body.file}: valid.`, errors ? "error" : "ok");
  return answer.body;
};

async function deploy() {
  const saved = await D.save();
  if (!saved) return;
  if (!saved.valid) {
    D.message("Not deployed: fix the errors shown on the canvas first.", "error");
    return;
  }
  const note = document.getElementById("deploy-note").value.trim();
  const answer = await D.api("POST", "/api/config/deploy", { files: { [saved.file]: saved.yaml }, note });
  if (!answer.ok) {
    D.showIssues(answer.body.issues || []);
    D.message(answer.body.error || "deploy refused", "error");
    return;
  }
  D.data.file = saved.file;
  D.message(`Deployed: version ${answer.body.version}.`, "ok");
  const id = D.model.flow.id;
  if (location.pathname !== `/flows/${id}/edit`) {
    history.replaceState(null, "", `/flows/${encodeURIComponent(id)}/edit`);
    document.querySelector("main h1").textContent = `Flow ${id}`;
  }
  D.live.start(id);
}

function init() {
  D.data = JSON.parse(document.getElementById("designer-data").textContent);
  D.model = D.data.model;
  D.instance = "use_blueprint" in D.model;
  D.types = new Map(D.data.palette.map((def) => [def.type, def]));
  document.getElementById("flow-id").value = D.model.flow.id;
  document.getElementById("flow-name").value = D.model.flow.name || "";
  if (D.model.error) D.message(D.model.error, "error");
  renderPalette();
  layoutMissing();
  render();
  select(null);
  D.showIssues(D.data.issues);
  performance.mark("designer-drawn"); // bench/ui.py: time to first draw
  canvas().addEventListener("pointerdown", onCanvasPointerDown);
  document.addEventListener("keydown", (event) => {
    if ((event.key === "Delete" || event.key === "Backspace") && !event.target.closest("input, textarea, select")) deleteSelected();
  });
  // A viewer's page has no save and deploy buttons: the flow is shown read-only.
  document.getElementById("save")?.addEventListener("click", D.save);
  document.getElementById("deploy")?.addEventListener("click", deploy);
  window.addEventListener("resize", drawEdges);
  if (D.data.running) D.live.start(D.model.flow.id);
}

document.addEventListener("DOMContentLoaded", init);
