// Approval tasks: on the overview, a card of those waiting for a person's decision (/api/approvals;
// none: no card); on a task's page, its decision as a detail row and — while it waits for one — a
// note box with Approve and Reject (POST /api/tasks/:id/approve | reject). Texts go through
// textContent, as everywhere on the dashboard.

import { ago, h } from "./dom.js";

/** The "Decision" row of an approval that has one. */
export function decisionRows(task) {
  const d = task.decision;
  const counted = (task.approvals || []).map((a) => a.by);
  const who = task.approvers && (task.required > 1 ? `${task.required} of ${task.approvers.join(", ")}` : task.approvers.join(", "));
  const rows = task.type === "approval" && task.approvers ? [["Who may decide", h("span", { class: "approvers" }, who)]] : [];
  if (task.type === "approval" && counted.length > 0 && !d) rows.push(["Approved so far", h("span", { class: "counted" }, counted.join(", "))]);
  if (task.type !== "approval" || !d) return rows;
  const said = `${d.approved ? "approved" : "rejected"} by ${d.by}${d.note ? `: ${d.note}` : ""}${d.at ? ` (${new Date(d.at).toLocaleString()})` : ""}`;
  return [...rows, ["Decision", h("span", { class: "decision", "data-approved": String(d.approved) }, said), "long"]];
}

/** Whose decisions this page makes: the name of a named token (API_USERS; app.js sets it), or "". */
const user = () => document.body.dataset.user || "";

/** Why this page's user may not decide an approval that names its approvers, or "" when they may. */
function notAnApprover(task) {
  if ((task.approvals || []).some((a) => a.by === user())) return `you approved it already; it needs ${task.required} approvals`;
  if (!task.approvers || task.approvers.includes(user())) return "";
  return `only ${task.approvers.join(", ")} may decide this${user() ? `; you are ${user()}` : "; your token names no one (API_USERS gives named tokens)"}`;
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
  const why = h("span", { class: "muted", id: "decision-refusal" });
  // A named token decides in its own name: the agent refuses another.
  const body = () => ({ ...(user() ? {} : { by: "the dashboard" }), ...(note.value.trim() ? { note: note.value.trim() } : {}) });
  approve.addEventListener("click", () => post("approve", body()));
  reject.addEventListener("click", () => post("reject", body()));
  const sync = (latest) => {
    const refusal = notAnApprover(latest);
    const open = latest.status === "pending" && !latest.decision && !refusal;
    for (const control of [note, approve, reject]) control.disabled = !open;
    why.textContent = latest.status === "pending" && !latest.decision ? refusal : "";
  };
  return { nodes: [note, approve, reject, why], sync };
}

/** The overview's card: each approval waiting for a decision, linked to its page (where it is decided). */
export function approvalsSection(approvals) {
  if (!approvals || approvals.length === 0) return h("div", { id: "approvals-section" });
  return h("section", { class: "card", id: "approvals-section" },
    h("h2", {}, `Waiting for a decision (${approvals.length})`),
    h("ul", { class: "approvals" }, ...approvals.map((a) =>
      h("li", { "data-task": a.id },
        h("a", { href: `#/tasks/${encodeURIComponent(a.id)}` }, a.title),
        a.message ? h("span", { class: "muted" }, ` — ${a.message}`) : null,
        a.asked ? h("span", { class: "muted" }, ` (asked ${ago(a.asked)})`) : null))));
}
