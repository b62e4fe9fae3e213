// A Claude task's follow-up: its page shows which conversation it continues, and — once it has
// ended with its conversation kept — a form whose prompt becomes the next turn
// (POST /api/tasks/:id/follow-up); the new task's page opens.

import { h } from "./dom.js";

/** The details row of a follow-up: the task it continues, as a link. */
export function followUpRows(task) {
  if (typeof task.continueFrom !== "string") return [];
  return [["Continues", h("a", { href: `#/tasks/${encodeURIComponent(task.continueFrom)}`, class: "continues" }, task.continueFrom)]];
}

/**
 * The "Follow up" card, kept in step with the task (`sync`): shown for a Claude task that ended
 * with its conversation kept. `api`: the dashboard's fetch helper.
 */
export function followUpCard(id, api) {
  const prompt = h("textarea", { name: "prompt", id: "follow-up-prompt", placeholder: "Now also…", rows: "3" });
  const error = h("div", { class: "error", id: "follow-up-error" });
  const form = h("form", { id: "follow-up-form" }, h("label", {}, "Next turn of this conversation", prompt), h("button", { type: "submit" }, "Follow up"), error);
  const card = h("section", { class: "card write-only", id: "follow-up-section", hidden: true }, h("h2", {}, "Follow up"), form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      const { task } = await api(`/api/tasks/${encodeURIComponent(id)}/follow-up`, { method: "POST", body: JSON.stringify({ prompt: prompt.value }) });
      location.hash = `#/tasks/${encodeURIComponent(task.id)}`;
    } catch (failure) {
      const fieldErrors = failure.body && Array.isArray(failure.body.errors) ? failure.body.errors : [];
      error.textContent = fieldErrors.length > 0 ? fieldErrors.map((fe) => `${fe.field}: ${fe.message}`).join("\n") : failure.message;
    }
  });
  const sync = (task) => {
    card.hidden = !(task.result && task.result.conversationKept === true && ["completed", "failed", "cancelled"].includes(task.status));
  };
  return { card, sync };
}
