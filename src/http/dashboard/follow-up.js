// A Claude task's conversation on its page: which conversation it continues; once it has ended
// with its conversation kept, the turns so far (GET /api/tasks/:id/conversation) and a form whose
// prompt becomes the next turn (POST /api/tasks/:id/follow-up) — the new task's page opens.

import { h } from "./dom.js";

/** The details row of a follow-up: the task it continues, as a link. */
export function followUpRows(task) {
  if (typeof task.continueFrom !== "string") return [];
  return [["Continues", h("a", { href: `#/tasks/${encodeURIComponent(task.continueFrom)}`, class: "continues" }, task.continueFrom)]];
}

/** One turn: who and when, then its texts, tool uses and tool results. */
function turnView(turn) {
  const who = turn.role === "user" ? "asked" : "claude";
  const at = turn.at ? new Date(turn.at).toLocaleTimeString() : "";
  const blocks = turn.blocks.map((block) =>
    block.kind === "text" ? h("div", { class: "turn-text" }, block.text)
    : block.kind === "tool_use" ? h("div", { class: "turn-tool" }, `[tool] ${block.name} ${block.input}`)
    : h("div", { class: block.isError ? "turn-tool stderr" : "turn-tool" }, `[${block.isError ? "tool error" : "tool result"}] ${block.text}`));
  return h("div", { class: `turn ${turn.role}`, "data-role": turn.role }, h("span", { class: "muted" }, `${who} ${at}`), ...blocks);
}

/**
 * The "Conversation" card, kept in step with the task (`sync`): shown for a Claude task that ended
 * with its conversation kept — its turns, read once, and the follow-up form. `api`: the dashboard's fetch helper.
 */
export function followUpCard(id, api) {
  const prompt = h("textarea", { name: "prompt", id: "follow-up-prompt", placeholder: "Now also…", rows: "3" });
  const error = h("div", { class: "error", id: "follow-up-error" });
  const form = h("form", { id: "follow-up-form" }, h("label", {}, "Next turn of this conversation", prompt), h("button", { type: "submit" }, "Follow up"), error);
  const turns = h("pre", { class: "output conversation", id: "conversation" });
  const followUp = h("div", { class: "write-only", id: "follow-up-section" }, form);
  const card = h("section", { class: "card", id: "conversation-section", hidden: true }, h("h2", {}, "Conversation"), turns, followUp);
  let shown = false;
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
  const sync = async (task) => {
    card.hidden = !(task.result && task.result.conversationKept === true && ["completed", "failed", "cancelled"].includes(task.status));
    if (card.hidden || shown) return;
    shown = true;
    try {
      const answer = await api(`/api/tasks/${encodeURIComponent(id)}/conversation`);
      const earlier = answer.total > answer.turns.length ? [h("span", { class: "muted" }, `(the last ${answer.turns.length} of ${answer.total} turns)\n`)] : [];
      turns.replaceChildren(...earlier, ...answer.turns.map(turnView));
    } catch (failure) {
      turns.replaceChildren(h("span", { class: "stderr" }, `the conversation could not be read: ${failure.message}`));
    }
  };
  return { card, sync };
}
