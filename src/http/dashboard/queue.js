// The overview's queue line: what is paused for every worker (ph-tasks queue pause), with a
// Resume button for each pause, and "Pause all" while nothing is paused; then the rate limits per
// task type (ph-tasks queue limit), how much of each window is used, and a Lift button; then the
// concurrency caps (ph-tasks queue concurrency), how many run now, and a Lift button. Text from
// the API goes through textContent only (dom.js).

import { actionRunner } from "./actions.js";
import { h } from "./dom.js";

const WINDOWS = [["day", 86_400_000], ["hour", 3_600_000], ["minute", 60_000], ["second", 1000]];
const windowText = (ms) => {
  const [unit, size] = WINDOWS.find(([, size]) => ms % size === 0) ?? ["millisecond", 1];
  return ms === size ? unit : `${ms / size} ${unit}s`;
};

function rateLimitList(rateLimits, act, api) {
  if (rateLimits.length === 0) return "";
  const lift = (type) => act(() => api(`/api/queue/rate-limits/${encodeURIComponent(type)}`, { method: "DELETE" }));
  return h("ul", { id: "rate-limits" }, rateLimits.map((l) => h("li", { "data-type": l.taskType },
    h("span", { class: `badge ${l.nextFreeAt ? "failed" : "pending"}` }, l.nextFreeAt ? "limit reached" : "rate-limited"), " ",
    h("strong", {}, l.taskType), ` at most ${l.max} per ${windowText(l.perMs)}: ${l.used} in the current window`,
    l.nextFreeAt ? `, the next start at ${new Date(l.nextFreeAt).toLocaleTimeString()}` : "", l.reason ? ` — ${l.reason}` : "", " ",
    h("button", { class: "secondary", "data-action": "lift-limit", onclick: lift(l.taskType) }, "Lift"))));
}

function capList(caps, act, api) {
  if (caps.length === 0) return "";
  const lift = (type) => act(() => api(`/api/queue/concurrency/${encodeURIComponent(type)}`, { method: "DELETE" }));
  return h("ul", { id: "concurrency-caps" }, caps.map((c) => h("li", { "data-type": c.taskType },
    h("span", { class: `badge ${c.running >= c.max ? "failed" : "pending"}` }, c.running >= c.max ? "all running" : "capped"), " ",
    h("strong", {}, c.taskType), ` at most ${c.max} at once across all workers: ${c.running} running now`, c.reason ? ` — ${c.reason}` : "", " ",
    h("button", { class: "secondary", "data-action": "lift-cap", onclick: lift(c.taskType) }, "Lift"))));
}

/** `limits`: { rateLimits, concurrency }; `api`: the dashboard's fetch helper; `changed`: called after an action (re-draws). */
export function queueSection(pauses, limits, api, changed) {
  const message = h("div", { class: "error", id: "queue-error" });
  const act = actionRunner(message, changed);
  const post = (path, body) => act(() => api(path, { method: "POST", body: JSON.stringify(body) }));
  const label = (p) => (p.taskType === "*" ? "every type" : p.taskType);
  if (pauses.length === 0) {
    return h("section", { class: "card queue", id: "queue-section" },
      h("span", { class: "badge running" }, "running"), " Every task type is being claimed. ",
      h("button", { class: "secondary", "data-action": "pause-all", onclick: post("/api/queue/pause", { reason: "paused from the dashboard" }) }, "Pause all"),
      rateLimitList(limits.rateLimits, act, api),
      capList(limits.concurrency, act, api),
      message);
  }
  return h("section", { class: "card queue paused", id: "queue-section" },
    h("h2", {}, "Queue paused"),
    h("ul", { id: "pauses" }, pauses.map((p) => h("li", { "data-type": p.taskType },
      h("span", { class: "badge cancelled" }, "paused"), " ", h("strong", {}, label(p)),
      ` since ${new Date(p.pausedAt).toLocaleString()}`, p.reason ? ` — ${p.reason}` : "", " ",
      h("button", { class: "secondary", "data-action": "resume", onclick: post("/api/queue/resume", { types: [p.taskType] }) }, "Resume")))),
    h("p", { class: "muted" }, "Tasks of a paused type are still accepted and wait; running ones finish."),
    rateLimitList(limits.rateLimits, act, api),
    capList(limits.concurrency, act, api),
    message);
}
