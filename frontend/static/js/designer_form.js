// The designer's inspector: a node's parameters as a form made from its JSON schema, a blueprint instance's inputs.
// Fields check what they can at once (required, numbers, durations, JSON, known points); the server checks the rest.
"use strict";

(function () {
  const D = (window.Designer = window.Designer || {});
  const DURATION = /^\s*\d+(\.\d+)?\s*(ms|s|m|h|d)?\s*$/;
  const INPUT_KINDS = { point: "point", number: "number", duration: "duration", boolean: "boolean", schedule: "json" };
  let points = null; // point ids for the pickers, fetched once

  async function loadPoints() {
    if (points) return points;
    points = [];
    const response = await fetch("/api/points/live");
    if (response.ok) points = (await response.json()).points.map((point) => point.point_id).sort();
    const list = document.getElementById("points-datalist") || document.body.appendChild(D.el("datalist", { id: "points-datalist" }));
    list.replaceChildren(...points.map((id) => D.el("option", { value: id })));
    return points;
  }

  function kindOf(param, def) {
    const format = param.format || "";
    if ((def.point_parameters || []).includes(param.name) || param.type === "point") return "point";
    if (param.enum) return "enum";
    if (param.type === "boolean") return "boolean";
    if (param.type === "integer" || param.type === "number" || format === "number") return "number";
    if (format.includes("duration") || param.type === "duration") return "duration";
    if (param.any_of) return "scalar";
    if (param.type === "object" || param.type === "array" || format.includes("schedule")) return "json";
    return "text";
  }

  // The field's text as the value to store; throws an Error whose message is shown under the field.
  function parse(kind, text, param) {
    if (kind === "number") {
      const value = Number(text);
      if (!Number.isFinite(value)) throw new Error("expected a number");
      if (param.minimum !== undefined && value < param.minimum) throw new Error(`expected at least ${param.minimum}`);
      if (param.maximum !== undefined && value > param.maximum) throw new Error(`expected at most ${param.maximum}`);
      if (param.type === "integer" && !Number.isInteger(value)) throw new Error("expected a whole number");
      return value;
    }
    if (kind === "duration") {
      if (!DURATION.test(text)) throw new Error("expected a duration such as 500ms, 30s, 5m or 1h");
      return /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : text.trim();
    }
    if (kind === "scalar") {
      if (text === "true" || text === "false") return text === "true";
      return text.trim() !== "" && Number.isFinite(Number(text)) ? Number(text) : text;
    }
    if (kind === "json") {
      try { return JSON.parse(text); } catch (err) { throw new Error(`expected JSON: ${err.message}`); }
    }
    if (kind === "point" && points && points.length && !points.includes(text)) throw new Error(`no point ${text} on this hub`);
    return text;
  }

  function show(kind, value) {
    if (value === undefined || value === null) return "";
    return kind === "json" ? JSON.stringify(value) : String(value);
  }

  // One labelled field bound to `values[param.name]`; empty means "not given" (the default applies).
  function field(param, kind, values) {
    const id = `field-${param.name}`;
    const error = D.el("span", { class: "field-error", role: "alert" });
    let input;
    if (kind === "enum") {
      input = D.el("select", { id }, D.el("option", { value: "", text: param.required ? "choose…" : `default (${show("text", param.default)})` }));
      for (const choice of param.enum) input.append(D.el("option", { value: String(choice), text: String(choice) }));
      input.value = show("text", values[param.name]);
    } else if (kind === "boolean") {
      input = D.el("input", { id, type: "checkbox" });
      input.checked = values[param.name] ?? param.default ?? false;
    } else if (kind === "json") {
      input = D.el("textarea", { id, rows: "3" });
      input.value = show(kind, values[param.name]);
    } else {
      input = D.el("input", { id, type: "text", inputmode: kind === "number" ? "decimal" : null });
      input.value = show(kind, values[param.name]);
      if (kind === "point") {
        input.setAttribute("list", "points-datalist");
        input.addEventListener("focus", loadPoints);
      }
      if (param.default !== undefined) input.placeholder = `default: ${show("text", param.default)}`;
    }
    input.setAttribute("aria-label", param.name);
    const update = () => {
      error.textContent = "";
      input.removeAttribute("aria-invalid");
      if (kind === "boolean") {
        values[param.name] = input.checked;
        return;
      }
      const text = input.value;
      if (text.trim() === "") {
        delete values[param.name];
        if (param.required) {
          error.textContent = "required";
          input.setAttribute("aria-invalid", "true");
        }
        return;
      }
      try {
        values[param.name] = kind === "enum" ? parse("scalar", text, param) : parse(kind, text, param);
      } catch (err) {
        error.textContent = err.message;
        input.setAttribute("aria-invalid", "true");
      }
    };
    input.addEventListener("change", update);
    const hint = [param.description, param.required ? "required" : ""].filter(Boolean).join(" · ");
    return D.el("div", { class: `field kind-${kind}` }, D.el("label", { for: id, text: param.name }), input, D.el("small", { class: "hint", text: hint }), error);
  }

  function nodeForm(node, def) {
    const form = D.el("form", { class: "node-form", "aria-label": `parameters of ${node.id}`, "data-node": node.id });
    form.addEventListener("submit", (event) => event.preventDefault());
    form.append(D.el("h2", { text: node.id }), D.el("p", { class: "muted", text: def ? def.description : `unknown node type ${node.type}` }));
    const idField = D.el("input", { id: "field-node-id", "aria-label": "node id", value: node.id, pattern: "[A-Za-z0-9_\\-]{1,64}" });
    const idError = D.el("span", { class: "field-error", role: "alert" });
    idField.addEventListener("change", () => {
      const id = idField.value.trim();
      idError.textContent = "";
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) idError.textContent = "expected 1 to 64 letters, digits, '_' or '-'";
      else if (id !== node.id && D.nodes().some((other) => other.id === id)) idError.textContent = `node ${id} already exists`;
      else if (id !== node.id) D.renameNode(node, id);
    });
    form.append(D.el("div", { class: "field" }, D.el("label", { for: "field-node-id", text: "node id" }), idField, idError));
    for (const param of def ? def.parameters : []) {
      form.append(field(param, kindOf(param, def), node.parameters));
    }
    form.append(D.el("button", { type: "button", class: "danger", "data-action": "delete", text: "Delete node" }));
    return form;
  }

  function instanceForm(model, blueprint) {
    const form = D.el("form", { class: "node-form", "aria-label": "blueprint inputs" });
    form.addEventListener("submit", (event) => event.preventDefault());
    const use = model.use_blueprint;
    form.append(
      D.el("h2", { text: "Blueprint inputs" }),
      D.el("p", { class: "muted", text: `An instance of ${blueprint ? blueprint.name : use.path} (${blueprint ? blueprint.file : use.path}): its nodes come from the blueprint, so only its inputs are edited here.` }),
    );
    const inputs = blueprint
      ? blueprint.inputs
      : Object.keys(use.inputs).map((name) => ({ name, type: "scalar", description: "", required: false }));
    for (const input of inputs) {
      form.append(field(input, INPUT_KINDS[input.type] || "scalar", use.inputs));
    }
    return form;
  }

  // The server's "bad parameter NAME: ..." issues of the node being edited, under their fields.
  function showIssues(issues) {
    const form = document.querySelector(".inspector .node-form");
    if (!form) return;
    for (const issue of issues) {
      const found = issue.message.match(/^bad parameter ([A-Za-z0-9_]+): (.*)$/);
      const field = found && issue.node_id === form.dataset.node && form.querySelector(`#field-${CSS.escape(found[1])}`);
      if (!field) continue;
      field.setAttribute("aria-invalid", "true");
      field.parentElement.querySelector(".field-error").textContent = found[2];
    }
  }

  D.form = { node: nodeForm, instance: instanceForm, loadPoints, showIssues };
})();
