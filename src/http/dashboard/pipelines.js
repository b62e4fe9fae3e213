// The "Pipelines" pages: #/pipelines lists the latest pipelines, #/pipelines/<id> shows one with its
// steps in order, and Cancel / Retry for the whole pipeline. Text from the API goes through
// textContent only (dom.js).

import { actionRunner } from "./actions.js";
import { h } from "./dom.js";
import { runTime } from "./run-figures.js";

const SETTLED = ["completed", "failed", "cancelled"];
const CANCELLABLE = ["pending", "running", "awaiting_approval", "blocked"];
const RETRYABLE = ["failed", "blocked", "cancelled"];
const TAG_PREFIX = "pipeline:";

const badge = (status) => h("span", { class: `badge ${status}`, "data-status": status }, status.replace("_", " "));
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "–");
const pipelineHref = (id) => `#/pipelines/${encodeURIComponent(id)}`;
const doneText = (p) => `${p.steps.filter((s) => s.status === "completed").length}/${p.steps.length}`;

// The shown page's poll; a new hash ends it before the next page is drawn.
let stopActive = () => undefined;
window.addEventListener("hashchange", () => stopActive());

/** The task page's row linking to the task's pipeline (its `pipeline:<id>` tag), if it has one. */
export function pipelineRows(task) {
  const tag = (task.tags || []).find((t) => t.startsWith(TAG_PREFIX) && t.length > TAG_PREFIX.length);
  return tag ? [["Pipeline", h("a", { href: pipelineHref(tag.slice(TAG_PREFIX.length)), class: "pipeline-link" }, "pipeline")]] : [];
}

/** The header's link to the pipelines list. */
export function pipelinesNav() {
  return h("a", { href: "#/pipelines", class: "nav", id: "nav-pipelines" }, "Pipelines");
}

/** The list's filter: every pipeline, or those of one status (#/pipelines?status=failed). */
const FILTERS = ["running", "awaiting_approval", "blocked", "failed", "completed", "cancelled", "pending"];
function filterLinks(status) {
  const link = (value, label) => h("a", { href: value ? `#/pipelines?status=${value}` : "#/pipelines", "data-filter": value ?? "all", ...(status === value ? { class: "active", "aria-current": "true" } : {}) }, label);
  return h("p", { class: "filters", id: "pipeline-filters" }, link(undefined, "all"), ...FILTERS.flatMap((value) => [" · ", link(value, value)]));
}

function listView(pipelines, status) {
  const optional = { class: "optional" };
  return [h("section", { class: "card", id: "pipelines-section" },
    h("h2", {}, status ? `Latest ${status} pipelines (${pipelines.length})` : `Latest pipelines (${pipelines.length})`),
    filterLinks(status),
    pipelines.length === 0 ? h("p", { class: "muted" }, status ? `No ${status} pipeline.` : "No pipelines yet. Send one with POST /api/pipelines or ph-tasks pipeline run.") :
      h("div", { class: "table-wrap" }, h("table", { id: "pipelines" },
        h("thead", {}, h("tr", {}, h("th", {}, "Status"), h("th", {}, "Title"), h("th", {}, "Steps done"), h("th", optional, "Created"))),
        h("tbody", {}, pipelines.map((p) => h("tr", { "data-pipeline": p.id },
          h("td", {}, badge(p.status)),
          h("td", { class: "title" }, h("a", { href: pipelineHref(p.id), title: p.title }, p.title)),
          h("td", { class: "steps-done" }, doneText(p)),
          h("td", optional, when(p.createdAt))))))))];
}

function stepRow(step) {
  const task = step.task;
  const taskCell = task
    ? h("a", { href: `#/tasks/${encodeURIComponent(step.taskId)}`, class: "step-task", title: step.taskId }, task.title)
    : h("span", { class: "muted", title: "removed by the retention cleanup" }, `${step.taskId} (removed)`);
  const error = task && task.error;
  // An approval step asked for and not decided says so; its task page has Approve / Reject.
  const status = step.awaitingDecision ? "awaiting_decision" : step.status;
  return h("tr", { "data-step": step.name, "data-status": status },
    h("td", { class: "step-name" }, step.name),
    h("td", {}, badge(status)),
    h("td", { class: "after" }, step.after.length ? step.after.join(", ") : "–"),
    h("td", { class: "title" }, taskCell),
    h("td", {}, runTime(task)),
    h("td", { class: "step-error" }, error ? h("span", { class: "error-text", "data-code": error.code }, `${error.code}: ${error.message}`) : ""));
}

function detailView(p, act, api, message) {
  const post = (verb) => act(() => api(`/api/pipelines/${encodeURIComponent(p.id)}/${verb}`, { method: "POST" }));
  const rows = [["Status", h("span", { id: "pipeline-status" }, badge(p.status))], ["Id", p.id], ["Steps done", doneText(p)], ["Created", when(p.createdAt)], ["Origin", p.origin], ...(p.by ? [["Asked by", p.by]] : [])];
  if (p.idempotencyKey) rows.push(["Idempotency key", p.idempotencyKey]);
  // Asked for by a document (a task document's run request, a trigger rule): its steps report to it.
  const document = (p.origin === "document" || p.origin.startsWith("rule:")) && p.steps.map((s) => s.task && s.task.source && s.task.source.documentId).find(Boolean);
  if (document) rows.push(["Document", h("span", { class: "pipeline-document" }, document)]);
  return [
    h("p", { class: "back" }, h("a", { href: "#/pipelines" }, "← all pipelines")),
    h("section", { class: "card" },
      h("h2", { class: "task-title pipeline-title", title: p.title }, p.title),
      h("dl", { id: "pipeline-details" }, rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
      h("div", { class: "actions write-only" },
        CANCELLABLE.includes(p.status) ? h("button", { class: "secondary", id: "pipeline-cancel", "data-action": "pipeline-cancel", onclick: post("cancel") }, "Cancel pipeline") : null,
        RETRYABLE.includes(p.status) ? h("button", { class: "secondary", id: "pipeline-retry", "data-action": "pipeline-retry", onclick: post("retry") }, "Retry failed steps") : null),
      message),
    h("section", { class: "card", id: "steps-section" }, h("h2", {}, "Steps"),
      h("div", { class: "table-wrap" }, h("table", { id: "pipeline-steps" },
        h("thead", {}, h("tr", {}, h("th", {}, "Step"), h("th", {}, "Status"), h("th", {}, "Waits for"), h("th", {}, "Task"), h("th", {}, "Duration"), h("th", {}, "Error"))),
        h("tbody", {}, p.steps.map(stepRow))))),
  ];
}

/**
 * Draws #/pipelines (id undefined; `status`: only those), or #/pipelines/<id>, then redraws every 2 s while something
 * shown is not settled. `current()`: false once the user went elsewhere (nothing is drawn then).
 */
export async function pipelinesPage(app, api, id, current, status) {
  stopActive();
  // Each page stops only its own poll: a late answer for a page left must not end the next one's.
  let timer;
  const stop = () => {
    clearInterval(timer);
    timer = undefined;
  };
  stopActive = stop;
  // Kept across redraws, so an action's error stays visible while the page refreshes.
  const message = h("div", { class: "error", id: "pipeline-error" });
  let busy = false;
  let again = false;
  const draw = async () => {
    // A draw asked for while one is in flight (an action during a poll) runs after it, not never.
    if (busy) return void (again = true);
    busy = true;
    try {
      const shown = id ? [(await api(`/api/pipelines/${encodeURIComponent(id)}`)).pipeline] : (await api(`/api/pipelines?limit=50${status ? `&status=${encodeURIComponent(status)}` : ""}`)).pipelines;
      if (!current()) return stop();
      app.replaceChildren(...(id ? detailView(shown[0], act, api, message) : listView(shown, status)));
      if (shown.every((p) => SETTLED.includes(p.status))) stop();
      else if (!timer) timer = setInterval(() => (current() ? void draw().catch(() => undefined) : stop()), 2000);
    } finally {
      busy = false;
    }
    if (again) {
      again = false;
      await draw();
    }
  };
  const act = actionRunner(message, draw);
  await draw();
}
