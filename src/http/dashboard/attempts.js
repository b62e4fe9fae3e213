// The task page's "Attempts" card: each run of the task (GET /api/tasks/:id/attempts) — its worker,
// start, time taken, outcome and why (the error, a retry's next time, a return's reason). Text from
// the API goes through textContent only (dom.js).

import { h } from "./dom.js";

const seconds = (ms) => (ms === null ? "–" : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`);

function why(attempt) {
  const text = attempt.error ? `${attempt.error.code}: ${attempt.error.message}` : (attempt.reason ?? "");
  return attempt.retryAt ? `${text} — next attempt at ${new Date(attempt.retryAt).toLocaleTimeString()}` : text;
}

export function attemptsTable(attempts) {
  if (attempts.length === 0) return h("p", { class: "muted", id: "attempts" }, "Not started yet.");
  const optional = { class: "optional" };
  return h("div", { class: "table-wrap" }, h("table", { id: "attempts" },
    h("thead", {}, h("tr", {}, h("th", {}, "#"), h("th", {}, "Outcome"), h("th", optional, "Worker"), h("th", optional, "Started"), h("th", {}, "Took"), h("th", {}, "Why"))),
    h("tbody", {}, attempts.map((a) => h("tr", { "data-outcome": a.outcome },
      h("td", {}, String(a.attempt)),
      h("td", { class: a.outcome === "failed" || a.outcome === "lost" ? "error-text" : "" }, a.outcome),
      h("td", optional, a.workerId ?? "–"),
      h("td", optional, new Date(a.startedAt).toLocaleTimeString()),
      h("td", {}, seconds(a.durationMs)),
      h("td", { class: "long" }, why(a)))))));
}
