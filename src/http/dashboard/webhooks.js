// The overview's "Webhooks" card: every outbound webhook with its events, filters and delivery
// counts, a pause / resume button, "Send dead again" for the dead deliveries (after the receiver
// was fixed), and "Send now" for a webhook its receiver's 429 or 503 holds. Text from the API goes through textContent only (dom.js).

import { actionRunner } from "./actions.js";
import { h } from "./dom.js";

/** `api`: the dashboard's fetch helper; `changed`: called after an action (re-draws). */
export function webhooksSection(webhooks, api, changed) {
  const message = h("div", { class: "error", id: "webhook-error" });
  const act = actionRunner(message, changed);
  const path = (w) => `/api/webhooks/${encodeURIComponent(w.id)}`;
  const toggle = (w) => act(() => api(path(w), { method: "PATCH", body: JSON.stringify({ enabled: !w.enabled }) }));
  const lift = (w) => act(() => api(path(w), { method: "PATCH", body: JSON.stringify({ heldUntil: null }) }));
  const resendDead = (w) => act(async () => {
    const { deliveries } = await api(`${path(w)}/deliveries?status=dead&limit=500`);
    for (const d of deliveries) await api(`${path(w)}/deliveries/${encodeURIComponent(d.id)}/redeliver`, { method: "POST", body: "{}" });
  });
  const filters = (w) => [w.taskType ? `type ${w.taskType}` : "", w.driveId ? `drive ${w.driveId}` : ""].filter(Boolean).join(", ");
  const row = (w) => h("tr", { "data-webhook": w.name },
    h("td", {}, h("span", { class: `badge ${w.enabled ? "running" : "cancelled"}` }, w.enabled ? "active" : "paused")),
    h("td", { class: "title" }, w.name),
    h("td", { class: "optional" }, h("code", {}, w.url)),
    h("td", {}, w.events.join(", "), filters(w) ? ` (${filters(w)})` : ""),
    h("td", { class: "deliveries" }, `${w.deliveries.delivered} delivered, ${w.deliveries.pending} pending, `,
      h("span", { class: w.deliveries.dead ? "error-text" : "" }, `${w.deliveries.dead} dead`),
      w.rateLimit ? h("div", { class: "muted rate-limit" }, `at most ${w.rateLimit.max} per ${w.rateLimit.perMs / 1000} s${w.rateLimit.nextFreeAt ? " (limit reached)" : ""}`) : "",
      w.held ? h("div", { class: "muted held" }, `held until ${new Date(w.held.until).toLocaleTimeString()}: the receiver answered ${w.held.reason}`) : ""),
    h("td", {},
      h("button", { class: "secondary", "data-action": w.enabled ? "pause" : "resume", onclick: toggle(w) }, w.enabled ? "Pause" : "Resume"),
      w.held ? h("button", { class: "secondary", "data-action": "lift-hold", onclick: lift(w) }, "Send now") : "",
      w.deliveries.dead ? h("button", { class: "secondary", "data-action": "resend-dead", onclick: resendDead(w) }, "Send dead again") : ""));
  const optional = { class: "optional" };
  return h("section", { class: "card", id: "webhooks-section" },
    h("h2", {}, `Webhooks (${webhooks.length})`),
    webhooks.length
      ? h("div", { class: "table-wrap" }, h("table", { id: "webhooks" },
          h("thead", {}, h("tr", {}, h("th", {}, "State"), h("th", {}, "Name"), h("th", optional, "URL"), h("th", {}, "On"), h("th", {}, "Deliveries"), h("th", {}, ""))),
          h("tbody", {}, webhooks.map(row))))
      : h("p", { class: "muted" }, "No webhooks. Add one with ph-tasks webhook add <name> --to <url> --on failed."),
    message);
}
