// The overview's "Workers" card: every worker sharing the task store (/api/workers) — its state
// (a lost one is marked), the tasks it holds of its slots, the types it claims, its process and
// when it was last heard from; Drain (claim nothing more) and Resume. Text from the API goes
// through textContent only (dom.js).

import { actionRunner } from "./actions.js";
import { ago, h } from "./dom.js";


/** `api`: the dashboard's fetch helper; `changed`: called after a drain or resume (re-draws). */
export function workersSection(workers, api, changed) {
  if (!workers) return h("div", { id: "workers-section" });
  const message = h("div", { class: "error", id: "worker-error" });
  const act = actionRunner(message, changed);
  const post = (w, verb) => act(() => api(`/api/workers/${encodeURIComponent(w.id)}/${verb}`, { method: "POST", body: JSON.stringify(verb === "drain" ? { reason: "from the dashboard" } : {}) }));
  const button = (w) => {
    if (w.state === "lost" || w.state === "stopping") return null;
    const verb = w.drain ? "resume" : "drain";
    return h("button", { class: "secondary write-only", "data-action": `worker-${verb}`, onclick: post(w, verb) }, w.drain ? "Resume" : "Drain");
  };
  const optional = { class: "optional" };
  const lost = workers.filter((w) => w.state === "lost").length;
  return h("section", { class: "card", id: "workers-section" },
    h("h2", {}, `Workers (${workers.length - lost}${lost ? `, ${lost} lost` : ""})`),
    workers.length === 0 ? h("p", { class: "muted" }, "No worker is running.") :
      h("div", { class: "table-wrap" }, h("table", { id: "workers" },
        h("thead", {}, h("tr", {}, h("th", {}, "Worker"), h("th", {}, "State"), h("th", {}, "Holding"), h("th", optional, "Done / failed (1 h)"), h("th", optional, "Types"),
          h("th", optional, "Process"), h("th", {}, "Last seen"), h("th", {}, ""))),
        h("tbody", {}, workers.map((w) => h("tr", { "data-worker": w.id, class: w.state === "lost" ? "lost" : "" },
          h("td", { class: "title" }, w.id, w.self ? h("span", { class: "muted" }, " (this agent)") : null),
          h("td", { class: w.state === "lost" ? "error-text" : "", title: w.drain?.reason ?? "" }, w.state),
          h("td", {}, `${w.holding} / ${w.maxConcurrent}`),
          h("td", optional, `${w.lastHour.completed} / `, h("span", { class: w.lastHour.failed ? "error-text" : "" }, String(w.lastHour.failed))),
          h("td", optional, w.types.length ? w.types.join(", ") : "–"),
          h("td", optional, `${w.host}:${w.pid} v${w.version}${w.schemaVersion ? ` · schema ${w.schemaVersion}` : ""}`),
          h("td", {}, ago(w.lastSeenAt)),
          h("td", {}, button(w))))))),
    message);
}
