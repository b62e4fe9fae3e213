// The overview's "Templates" card: every saved task and pipeline template with the parameters it
// uses, and a form to run one with them filled in (POST /api/tasks or /api/pipelines { template,
// params, title? }), which then opens the task or pipeline made. Drawn at each load of the overview,
// not at its refreshes, so what the user types in the form stays. Text from the API goes through
// textContent only (dom.js).

import { h } from "./dom.js";

/**
 * `api`: the dashboard's fetch helper; `handled(error)`: true when the dashboard dealt with the
 * error itself (a refused token asks for another).
 */
export function templatesSection(templates, api, handled) {
  const runner = h("div", { id: "template-run", class: "write-only" });
  const close = () => runner.replaceChildren();
  const open = (template) => () => {
    runner.replaceChildren(runForm(template, api, handled, close));
    runner.querySelector("input")?.focus();
  };
  const row = (t) => h("tr", { "data-template": t.name },
    h("td", {}, h("span", { class: "badge kind", "data-kind": t.kind }, t.kind)),
    h("td", { class: "title" }, t.name, t.description ? h("div", { class: "muted" }, t.description) : null),
    h("td", { class: "optional params" }, t.params.length ? t.params.join(", ") : "–"),
    h("td", {}, h("button", { class: "secondary", "data-action": "run-template", onclick: open(t) }, "Run…")));
  return h("section", { class: "card", id: "templates-section" },
    h("h2", {}, `Templates (${templates.length})`),
    templates.length
      ? h("div", { class: "table-wrap" }, h("table", { id: "templates" },
          h("thead", {}, h("tr", {}, h("th", {}, "Kind"), h("th", {}, "Name"), h("th", { class: "optional" }, "Parameters"), h("th", {}, ""))),
          h("tbody", {}, templates.map(row))))
      : h("p", { class: "muted" }, "No templates. Save one with ph-tasks template put <name> --task '<json>'."),
    runner);
}

/**
 * The form that runs `template`: one field per parameter, and an optional title. A parameter is
 * sent as typed (a string) unless its "JSON" box is ticked: then as the JSON value it holds (a
 * number, true/false, a list, an object), for a template that puts it where a string is not
 * allowed (`"maxAttempts": "{{params.tries}}"`), as the CLI's --param-json does.
 */
function runForm(template, api, handled, close) {
  const slots = new Map(template.params.map((name) => [name, h("div", { class: "field-error", "data-error-for": name })]));
  const general = h("div", { class: "error", id: "template-error" });
  const inputs = new Map(template.params.map((name) => [name, h("input", { name: `param-${name}`, "data-param": name })]));
  const asJson = new Map(template.params.map((name) => [name, h("input", { type: "checkbox", name: `json-${name}`, "data-json": name, title: "send as JSON: a number, true/false, a list or an object" })]));
  const title = h("input", { name: "title", placeholder: "the template's" });
  const form = h("form", { id: "template-form", "data-template": template.name },
    h("h3", {}, `Run the ${template.kind} template `, h("code", {}, template.name)),
    template.params.map((name) => h("label", {}, name, inputs.get(name), h("span", { class: "json-toggle" }, asJson.get(name), " JSON"), slots.get(name))),
    h("label", {}, "Title (optional)", title),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Run"), h("button", { type: "button", class: "secondary", onclick: close }, "Close")),
    general);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const slot of [general, ...slots.values()]) slot.textContent = "";
    const params = {};
    for (const [name, input] of inputs) {
      if (!asJson.get(name).checked) params[name] = input.value;
      else {
        try {
          params[name] = JSON.parse(input.value);
        } catch {
          slots.get(name).textContent = "is not JSON (untick JSON to send it as text)";
        }
      }
    }
    if ([...slots.values()].some((slot) => slot.textContent)) return;
    const body = JSON.stringify({ template: template.name, params, ...(title.value.trim() ? { title: title.value.trim() } : {}) });
    try {
      if (template.kind === "pipeline") {
        const { pipeline } = await api("/api/pipelines", { method: "POST", body });
        location.hash = `#/pipelines/${encodeURIComponent(pipeline.id)}`;
      } else {
        const { task } = await api("/api/tasks", { method: "POST", body });
        location.hash = `#/tasks/${encodeURIComponent(task.id)}`;
      }
    } catch (error) {
      if (handled(error)) return;
      // The API names the field: "params.version" goes under that parameter, the rest below the button.
      const errors = error.body && Array.isArray(error.body.errors) ? error.body.errors : [];
      for (const fe of errors) {
        const slot = slots.get(String(fe.field || "").replace(/^params\./, ""));
        if (slot) slot.textContent = slot.textContent ? `${slot.textContent}\n${fe.message}` : fe.message;
        else general.textContent += `${fe.field || "template"}: ${fe.message}\n`;
      }
      if (!errors.length) general.textContent = error.message;
    }
  });
  return form;
}
