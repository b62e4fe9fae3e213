// An approval task on its page: its decision as a detail row, and — while it waits for one — a
// note box with Approve and Reject (POST /api/tasks/:id/approve | reject). Texts go through
// textContent, as everywhere on the dashboard.

import { h } from "./dom.js";

/** The "Decision" row of an approval that has one. */
export function decisionRows(task) {
  const d = task.decision;
  if (task.type !== "approval" || !d) return [];
  const said = `${d.approved ? "approved" : "rejected"} by ${d.by}${d.note ? `: ${d.note}` : ""}${d.at ? ` (${new Date(d.at).toLocaleString()})` : ""}`;
  return [["Decision", h("span", { class: "decision", "data-approved": String(d.approved) }, said), "long"]];
}

/**
 * The controls of an approval's page (none for another type): `post(verb, body)` sends the
 * decision; `sync(task)` enables them while the task is pending without a decision.
 */
export function decisionControls(task, post) {
  if (task.type !== "approval") return { nodes: [], sync: () => undefined };
  const note = h("input", { id: "decision-note", type: "text", placeholder: "note (optional)", maxlength: "2000" });
  const approve = h("button", { id: "approve" }, "Approve");
  const reject = h("button", { id: "reject", class: "secondary" }, "Reject");
  const body = () => ({ by: "the dashboard", ...(note.value.trim() ? { note: note.value.trim() } : {}) });
  approve.addEventListener("click", () => post("approve", body()));
  reject.addEventListener("click", () => post("reject", body()));
  const sync = (latest) => {
    const open = latest.status === "pending" && !latest.decision;
    for (const control of [note, approve, reject]) control.disabled = !open;
  };
  return { nodes: [note, approve, reject], sync };
}
