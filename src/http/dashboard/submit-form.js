// The overview's "Run a command" form: a cli task from a command, its arguments (one per line), a
// title and a working directory; the API's field errors shown under the field they are about.

import { h } from "./dom.js";

const FORM_FIELDS = ["command", "args", "title", "workingDirectory"];

/** `api`: the dashboard's fetch helper; `handled(error)`: true when the dashboard dealt with it (a refused token). */
export function submitForm(api, handled) {
  // One error slot under each field (the API names the field: "args.0" belongs to "args"), and
  // one under the button for anything that is not about a field.
  const fieldError = (name) => h("div", { class: "field-error", id: `error-${name}` });
  const slots = Object.fromEntries(FORM_FIELDS.map((name) => [name, fieldError(name)]));
  const general = h("div", { class: "error", id: "submit-error" });
  const field = (name, text, control) => h("label", {}, text, control, slots[name]);
  const form = h("form", { id: "submit-form" },
    field("command", "Command", h("input", { name: "command", placeholder: "echo", required: true })),
    field("args", "Arguments (one per line)", h("textarea", { name: "args", placeholder: "hello" })),
    field("title", "Title (optional)", h("input", { name: "title" })),
    field("workingDirectory", "Working directory (optional)", h("input", { name: "workingDirectory" })),
    h("button", { type: "submit" }, "Run"),
    general);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const command = String(data.get("command") || "").trim();
    const args = String(data.get("args") || "").split("\n").map((a) => a.trim()).filter((a) => a.length > 0);
    const body = { type: "cli", title: String(data.get("title") || "").trim() || [command, ...args].join(" ").slice(0, 200) || "task", command, args };
    const cwd = String(data.get("workingDirectory") || "").trim();
    if (cwd) body.workingDirectory = cwd;
    for (const slot of [general, ...Object.values(slots)]) slot.textContent = "";
    try {
      const { task } = await api("/api/tasks", { method: "POST", body: JSON.stringify(body) });
      location.hash = `#/tasks/${task.id}`;
    } catch (error) {
      if (handled(error)) return;
      const fieldErrors = (error.body && Array.isArray(error.body.errors)) ? error.body.errors : [];
      for (const fe of fieldErrors) {
        const slot = slots[String(fe.field || "").split(".")[0]];
        if (slot) slot.textContent = slot.textContent ? `${slot.textContent}\n${fe.message}` : fe.message;
        else general.textContent += `${fe.field || "task"}: ${fe.message}\n`;
      }
      if (!fieldErrors.length) general.textContent = error.message;
    }
  });
  return h("section", { class: "card write-only", id: "submit-section" }, h("h2", {}, "Run a command"), form);
}
