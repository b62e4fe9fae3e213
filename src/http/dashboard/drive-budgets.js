// The overview's "Drive budgets" card: each drive whose writers' Claude runs are held to a budget
// of its own (GET /api/budgets/drives: set here or with `ph-tasks budget set`, or named in
// TASK_DRIVE_BUDGETS_USD_PER_DAY), what its writers spent in the last 24 hours, who set it and
// why, and a Remove button for one set while the agents run; then a form to set one (PUT
// /api/budgets/drives/:drive; "none": no budget at all). The list is redrawn by the overview's
// refreshes, the form is not (what is typed stays). Text from the API through textContent only.

import { actionRunner } from "./actions.js";
import { h } from "./dom.js";
import { dollars } from "./spend.js";

/** Where a drive stands: no budget, spent and until when, or what is left (as `ph-tasks budget` says it). */
function standing(d) {
  if (d.usdPerDay === null) return "no budget";
  if (d.resumesAt) return `spent — waits until ${new Date(d.resumesAt).toLocaleString()}`;
  return `${dollars(d.remainingUsd ?? 0)} left`;
}

/** The list from GET /api/budgets/drives (null: the agent has no such route, or it failed). */
export function driveBudgetList(list, api, changed) {
  if (!list) return h("div", { id: "drive-budgets-list" });
  const message = h("div", { class: "error", id: "drive-budgets-error" });
  const act = actionRunner(message, changed);
  const remove = (driveId) => act(() => api(`/api/budgets/drives/${encodeURIComponent(driveId)}`, { method: "DELETE" }));
  const others = list.defaultUsdPerDay === null ? "Other drives: no budget (TASK_BUDGET_USD_PER_DRIVE_PER_DAY)." : `Other drives: ${dollars(list.defaultUsdPerDay)} a day each (TASK_BUDGET_USD_PER_DRIVE_PER_DAY).`;
  const table = h("div", { class: "table-wrap" }, h("table", { id: "drive-budgets" },
    h("thead", {}, h("tr", {}, h("th", {}, "Drive"), h("th", {}, "Per day"), h("th", {}, "Spent (24 h)"), h("th", {}, "Now"), h("th", { class: "optional" }, "Set by"), h("th", {}, ""))),
    h("tbody", {}, list.drives.map((d) => h("tr", { "data-drive": d.driveId, class: d.resumesAt ? "error-text" : "" },
      h("td", { class: "title" }, d.driveId),
      h("td", {}, d.usdPerDay === null ? "none" : dollars(d.usdPerDay)),
      h("td", {}, dollars(d.spentUsd)),
      h("td", {}, standing(d)),
      h("td", { class: "optional" }, d.setBy ? `${d.setBy}${d.reason ? ` — ${d.reason}` : ""}` : d.setting),
      h("td", {}, d.setBy ? h("button", { class: "secondary", "data-action": "remove-drive-budget", onclick: remove(d.driveId) }, "Remove") : ""))))));
  return h("div", { id: "drive-budgets-list" },
    list.drives.length === 0 ? h("p", { class: "muted" }, "No drive has a budget of its own.") : table,
    h("p", { class: "muted" }, others),
    message);
}

/** An amount as typed: "none" is null; a number is sent as one; anything else as typed, for the API to refuse naming it. */
function amount(text) {
  if (text === "none") return null;
  return /^\d+(\.\d+)?$/.test(text) ? Number(text) : text;
}

/** The form: drive, dollars a day (or none), reason; the API's field errors shown under it. `handled(error)`: true when the dashboard dealt with it (a refused token). */
export function driveBudgetForm(api, changed, handled) {
  const message = h("div", { class: "error", id: "drive-budget-form-error" });
  const form = h("form", { id: "drive-budget-form", class: "write-only" },
    h("label", {}, "Drive", h("input", { name: "drive", placeholder: "drive id", required: true })),
    h("label", {}, "US dollars a day", h("input", { name: "usd", placeholder: "2.50, or none", required: true })),
    h("label", {}, "Reason (optional)", h("input", { name: "reason" })),
    h("button", { type: "submit" }, "Set"),
    message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const drive = String(data.get("drive") || "").trim();
    const body = { usdPerDay: amount(String(data.get("usd") || "").trim()), reason: String(data.get("reason") || "").trim() };
    message.textContent = "";
    try {
      await api(`/api/budgets/drives/${encodeURIComponent(drive)}`, { method: "PUT", body: JSON.stringify(body) });
      form.reset();
      await changed();
    } catch (error) {
      if (handled(error)) return;
      const fieldErrors = error.body && Array.isArray(error.body.errors) ? error.body.errors : [];
      message.textContent = fieldErrors.length ? fieldErrors.map((fe) => `${fe.field}: ${fe.message}${fe.value !== undefined ? ` (got ${fe.value})` : ""}`).join("\n") : error.message;
    }
  });
  return form;
}

/** The card: the list (swapped by refreshes) above the form (kept). */
export function driveBudgetsSection(list, api, changed, handled) {
  return h("section", { class: "card", id: "drive-budgets-section" },
    h("h2", {}, "Drive budgets"),
    h("p", { class: "muted" }, "What the Claude runs a drive's writers ask for may spend in 24 hours; set here, it holds on every worker at once and wins over the settings."),
    driveBudgetList(list, api, changed),
    driveBudgetForm(api, changed, handled));
}
