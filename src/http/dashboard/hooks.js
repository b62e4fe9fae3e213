// The overview's "Inbound hooks" card: every hook with its URL, what it received and refused (with
// the last error), and a pause / resume button. Text from the API goes through textContent only
// (dom.js).

import { actionRunner } from "./actions.js";
import { h } from "./dom.js";

const when = (iso) => (iso ? new Date(iso).toLocaleString() : "–");

/** `api`: the dashboard's fetch helper; `changed`: called after a pause or resume (re-draws). */
export function hooksSection(hooks, api, changed) {
  const message = h("div", { class: "error", id: "hook-error" });
  const act = actionRunner(message, changed);
  const toggle = (hook) => act(() => api(`/api/hooks/${encodeURIComponent(hook.id)}`, { method: "PATCH", body: JSON.stringify({ enabled: !hook.enabled }) }));
  const row = (hook) => h("tr", { "data-hook": hook.name },
    h("td", {}, h("span", { class: `badge ${hook.enabled ? "running" : "cancelled"}` }, hook.enabled ? "active" : "paused")),
    h("td", { class: "title" }, hook.name,
      hook.signing === "timestamped" ? h("span", { class: "muted signing", title: "only Standard Webhooks signatures (signed id and time): a captured delivery cannot be replayed" }, " · timestamped only") : null,
      hook.rateLimit ? h("div", { class: "muted rate-limit" }, `at most ${hook.rateLimit.max} tasks per ${hook.rateLimit.perMs / 1000} s${hook.rateLimit.nextFreeAt ? " (limit reached: deliveries get 429)" : ""}`) : null),
    h("td", { class: "optional" }, h("code", {}, `POST ${location.origin}${hook.path}`)),
    h("td", { class: "received", title: hook.lastError || "" }, `${hook.receivedCount} received, `,
      h("span", { class: hook.rejectedCount ? "error-text" : "" }, `${hook.rejectedCount} refused`)),
    h("td", { class: "optional" }, hook.lastTaskId ? h("a", { href: `#/tasks/${encodeURIComponent(hook.lastTaskId)}` }, when(hook.lastReceivedAt)) : when(hook.lastReceivedAt)),
    h("td", {}, h("button", { class: "secondary", "data-action": hook.enabled ? "pause" : "resume", onclick: toggle(hook) }, hook.enabled ? "Pause" : "Resume")));
  const optional = { class: "optional" };
  return h("section", { class: "card", id: "hooks-section" },
    h("h2", {}, `Inbound hooks (${hooks.length})`),
    hooks.length
      ? h("div", { class: "table-wrap" }, h("table", { id: "hooks" },
          h("thead", {}, h("tr", {}, h("th", {}, "State"), h("th", {}, "Name"), h("th", optional, "URL"), h("th", {}, "Deliveries"), h("th", optional, "Last"), h("th", {}, ""))),
          h("tbody", {}, hooks.map(row))))
      : h("p", { class: "muted" }, "No hooks. Add one with ph-tasks hook add <name> --task '<json>'."),
    message);
}
