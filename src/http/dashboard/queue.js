// The overview's queue line: what is paused for every worker (ph-tasks queue pause), with a
// Resume button for each pause, and "Pause all" while nothing is paused. Text from the API goes
// through textContent only (dom.js).

import { actionRunner } from "./actions.js";
import { h } from "./dom.js";

/** `api`: the dashboard's fetch helper; `changed`: called after an action (re-draws). */
export function queueSection(pauses, api, changed) {
  const message = h("div", { class: "error", id: "queue-error" });
  const act = actionRunner(message, changed);
  const post = (path, body) => act(() => api(path, { method: "POST", body: JSON.stringify(body) }));
  const label = (p) => (p.taskType === "*" ? "every type" : p.taskType);
  if (pauses.length === 0) {
    return h("section", { class: "card queue", id: "queue-section" },
      h("span", { class: "badge running" }, "running"), " Every task type is being claimed. ",
      h("button", { class: "secondary", "data-action": "pause-all", onclick: post("/api/queue/pause", { reason: "paused from the dashboard" }) }, "Pause all"),
      message);
  }
  return h("section", { class: "card queue paused", id: "queue-section" },
    h("h2", {}, "Queue paused"),
    h("ul", { id: "pauses" }, pauses.map((p) => h("li", { "data-type": p.taskType },
      h("span", { class: "badge cancelled" }, "paused"), " ", h("strong", {}, label(p)),
      ` since ${new Date(p.pausedAt).toLocaleString()}`, p.reason ? ` — ${p.reason}` : "", " ",
      h("button", { class: "secondary", "data-action": "resume", onclick: post("/api/queue/resume", { types: [p.taskType] }) }, "Resume")))),
    h("p", { class: "muted" }, "Tasks of a paused type are still accepted and wait; running ones finish."),
    message);
}
