// The overview's "Schedules" card: every cron schedule with its next and last firing, and a
// pause / resume button. Text from the API goes through textContent only (dom.js).

import { actionRunner } from "./actions.js";
import { h } from "./dom.js";

const when = (iso) => (iso ? new Date(iso).toLocaleString() : "–");

/** `api`: the dashboard's fetch helper; `changed`: called after a pause or resume (re-draws). */
export function schedulesSection(schedules, api, changed) {
  const message = h("div", { class: "error", id: "schedule-error" });
  const act = actionRunner(message, changed);
  const toggle = (schedule) => act(() => api(`/api/schedules/${encodeURIComponent(schedule.id)}`, { method: "PATCH", body: JSON.stringify({ enabled: !schedule.enabled }) }));
  const row = (s) => h("tr", { "data-schedule": s.name },
    h("td", {}, h("span", { class: `badge ${s.enabled ? "running" : "cancelled"}` }, s.enabled ? "active" : "paused")),
    h("td", { class: "title" }, s.name),
    h("td", {}, h("code", {}, s.cron), ` ${s.timezone}`),
    h("td", { class: "optional" }, when(s.nextFireAt)),
    h("td", { class: "optional" }, s.lastTaskId ? h("a", { href: `#/tasks/${encodeURIComponent(s.lastTaskId)}` }, when(s.lastFiredAt)) : when(s.lastFiredAt)),
    h("td", { class: "optional", title: s.lastError || "" }, `${s.firedCount} fired, ${s.skippedCount} skipped`),
    h("td", {}, h("button", { class: "secondary", "data-action": s.enabled ? "pause" : "resume", onclick: toggle(s) }, s.enabled ? "Pause" : "Resume")));
  const optional = { class: "optional" };
  return h("section", { class: "card", id: "schedules-section" },
    h("h2", {}, `Schedules (${schedules.length})`),
    schedules.length
      ? h("div", { class: "table-wrap" }, h("table", { id: "schedules" },
          h("thead", {}, h("tr", {}, h("th", {}, "State"), h("th", {}, "Name"), h("th", {}, "When"), h("th", optional, "Next"), h("th", optional, "Last"), h("th", optional, "Firings"), h("th", {}, ""))),
          h("tbody", {}, schedules.map(row))))
      : h("p", { class: "muted" }, "No schedules. Add one with ph-tasks schedule add <name> <cron> --task '<json>'."),
    message);
}
