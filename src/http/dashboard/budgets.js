// The overview's "Budgets" card. First the daily budget of every run that costs money, the
// owner's own too (GET /api/budgets/daily: set here or with `ph-tasks budget daily`, else TASK_BUDGET_USD_PER_DAY), what
// was spent against it in the last 24 hours, who set it and why, a Remove button for one set while
// the agents run, and a form to set one (PUT /api/budgets/daily). Then each drive whose writers'
// Claude runs are held to a budget of its own (GET /api/budgets/drives: set here or with `ph-tasks
// budget set`, or named in TASK_DRIVE_BUDGETS_USD_PER_DAY), likewise, and a form to set one (PUT
// /api/budgets/drives/:drive). Then each person (who asked for a task: a named token of API_USERS or
// a named app key) held to a budget of their own (GET /api/budgets/people, PUT
// /api/budgets/people/:person), built the same way. "none": no budget at all. The daily block and the
// lists are redrawn by the overview's refreshes, the forms are not (what is typed stays). Text from
// the API through textContent only.

import { actionRunner } from "./actions.js";
import { h } from "./dom.js";
import { dollars } from "./spend.js";

/** Where a budget (the daily one, a drive's, a person's) stands: no budget, spent and until when, or what is left (as `ph-tasks budget` says it). */
function standing(d) {
  if (d.usdPerDay === null) return "no budget";
  if (d.resumesAt) return `spent — waits until ${new Date(d.resumesAt).toLocaleString()}`;
  return `${dollars(d.remainingUsd ?? 0)} left`;
}

/** A warning that some workers do not read budgets set here (a rolling upgrade's older ones), when there is one. */
const blindWarning = (answer, id) => (answer.warning ? h("p", { class: "warning-text", id }, `Warning: ${answer.warning}.`) : "");

/**
 * The two kinds of holder with budgets of their own: the API's path and the entries' id field, the
 * words for them, and the setting giving those not named. Every element id and data-action is made
 * from `key` ("drive" keeps the ids the drive part always had: tests and users' scripts rely on them).
 */
const HOLDERS = {
  drive: { key: "drive", path: "drives", idField: "driveId", label: "Drive", others: "Other drives", placeholder: "drive id", none: "No drive has a budget of its own.", defaultSetting: "TASK_BUDGET_USD_PER_DRIVE_PER_DAY" },
  person: { key: "person", path: "people", idField: "person", label: "Person", others: "Other people", placeholder: "name, as API_USERS gives it", none: "No person has a budget of their own.", defaultSetting: "TASK_BUDGET_USD_PER_PERSON_PER_DAY" },
};

/** The list from GET /api/budgets/<kind.path> (null: the agent has no such route, or it failed). */
function holderBudgetList(kind, list, api, changed) {
  const { key, path, idField } = kind;
  if (!list) return h("div", { id: `${key}-budgets-list` });
  const message = h("div", { class: "error", id: `${key}-budgets-error` });
  const act = actionRunner(message, changed);
  const remove = (id) => act(() => api(`/api/budgets/${path}/${encodeURIComponent(id)}`, { method: "DELETE" }));
  const others = list.defaultUsdPerDay === null ? `${kind.others}: no budget (${kind.defaultSetting}).` : `${kind.others}: ${dollars(list.defaultUsdPerDay)} a day each (${kind.defaultSetting}).`;
  const entries = list[path];
  const table = h("div", { class: "table-wrap" }, h("table", { id: `${key}-budgets` },
    h("thead", {}, h("tr", {}, h("th", {}, kind.label), h("th", {}, "Per day"), h("th", {}, "Spent (24 h)"), h("th", {}, "Now"), h("th", { class: "optional" }, "Set by"), h("th", {}, ""))),
    h("tbody", {}, entries.map((d) => h("tr", { [`data-${key}`]: d[idField], class: d.resumesAt ? "error-text" : "" },
      h("td", { class: "title" }, d[idField]),
      h("td", {}, d.usdPerDay === null ? "none" : dollars(d.usdPerDay)),
      h("td", {}, dollars(d.spentUsd)),
      h("td", {}, standing(d)),
      h("td", { class: "optional" }, d.setBy ? `${d.setBy}${d.reason ? ` — ${d.reason}` : ""}` : d.setting),
      // Only one set while the agents run can be removed: one from the settings is changed there.
      h("td", {}, d.setBy ? h("button", { class: "secondary", "data-action": `remove-${key}-budget`, onclick: remove(d[idField]) }, "Remove") : ""))))));
  return h("div", { id: `${key}-budgets-list` },
    list.mine ? h("p", { id: "my-budget", class: list.mine.resumesAt ? "error-text" : "" }, yours(list.mine)) : null,
    entries.length === 0 ? h("p", { class: "muted" }, kind.none) : table,
    h("p", { class: "muted" }, others),
    blindWarning(list, `${key}-budgets-warning`),
    message);
}

/** The signed-in person's own budget, whatever gives it (GET /api/budgets/people/:person), as `ph-tasks budget person show` says it. */
function yours(d) {
  const budget = d.usdPerDay === null ? "no daily budget" : `a daily budget of ${dollars(d.usdPerDay)} (${d.setBy ? `set by ${d.setBy}` : d.setting})`;
  return `Yours (${d.person}): ${budget}; ${dollars(d.spentUsd)} spent in the last 24 hours${d.usdPerDay === null ? "" : ` — ${standing(d)}`}.`;
}

/** The drives' list (GET /api/budgets/drives). */
export const driveBudgetList = (list, api, changed) => holderBudgetList(HOLDERS.drive, list, api, changed);
/** The people's list (GET /api/budgets/people). */
export const personBudgetList = (list, api, changed) => holderBudgetList(HOLDERS.person, list, api, changed);

/** The daily budget's first line: what holds, and what gives it (who set it and why, or the setting). */
function dailyLine(d) {
  const budget = d.usdPerDay === null ? "No daily budget" : `Daily budget, all runs: ${dollars(d.usdPerDay)} a day`;
  if (!d.setBy) return `${budget} (${d.setting === "none" ? "TASK_BUDGET_USD_PER_DAY is not set" : d.setting})`;
  // Set while the agents run: say what Remove would give back.
  const settings = d.settingsUsd === null ? "no budget" : dollars(d.settingsUsd);
  return `${budget} — set by ${d.setBy}${d.reason ? `: ${d.reason}` : ""} (TASK_BUDGET_USD_PER_DAY would give ${settings})`;
}

/** GET /api/budgets/daily's answer ({ daily, warning }; null: the agent has no such route, or it failed). */
export function dailyBudgetBlock(answer, api, changed) {
  if (!answer) return h("div", { id: "daily-budget" });
  const { daily } = answer;
  const message = h("div", { class: "error", id: "daily-budget-error" });
  const act = actionRunner(message, changed);
  const spent = `Last 24 hours: ${dollars(daily.spentUsd)} in ${daily.runs} run${daily.runs === 1 ? "" : "s"}${daily.usdPerDay === null ? "." : ` — ${standing(daily)}`}`;
  return h("div", { id: "daily-budget" },
    h("p", {}, h("span", { id: "daily-budget-line" }, dailyLine(daily)), " ",
      daily.setBy ? h("button", { class: "secondary", "data-action": "remove-daily-budget", onclick: act(() => api("/api/budgets/daily", { method: "DELETE" })) }, "Remove") : ""),
    h("p", { id: "daily-budget-spent", class: daily.resumesAt ? "error-text" : "muted" }, spent),
    blindWarning(answer, "daily-budget-warning"),
    message);
}

/** An amount as typed: "none" is null; a number is sent as one; anything else as typed, for the API to refuse naming it. */
function amount(text) {
  if (text === "none") return null;
  return /^\d+(\.\d+)?$/.test(text) ? Number(text) : text;
}

/**
 * Sends a budget form as PUT `request(data)` gives it ([path, body]): cleared and redrawn when set,
 * else the API's field errors under it. `handled(error)`: true when the dashboard dealt with it (a refused token).
 */
function onBudgetSubmit(form, message, request, api, changed, handled) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const [path, body] = request(new FormData(form));
    message.textContent = "";
    try {
      await api(path, { method: "PUT", body: JSON.stringify(body) });
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

const field = (data, name) => String(data.get(name) || "").trim();

/** The daily budget's form: dollars a day (or none), reason. */
export function dailyBudgetForm(api, changed, handled) {
  const message = h("div", { class: "error", id: "daily-budget-form-error" });
  const form = h("form", { id: "daily-budget-form", class: "write-only" },
    h("label", {}, "US dollars a day", h("input", { name: "usd", placeholder: "10, or none", required: true })),
    h("label", {}, "Reason (optional)", h("input", { name: "reason" })),
    h("button", { type: "submit" }, "Set"),
    message);
  return onBudgetSubmit(form, message, (data) => ["/api/budgets/daily", { usdPerDay: amount(field(data, "usd")), reason: field(data, "reason") }], api, changed, handled);
}

/** A holder's form: who (a drive, a person), dollars a day (or none), reason. */
function holderBudgetForm(kind, api, changed, handled) {
  const { key, path } = kind;
  const message = h("div", { class: "error", id: `${key}-budget-form-error` });
  const form = h("form", { id: `${key}-budget-form`, class: "write-only" },
    h("label", {}, kind.label, h("input", { name: key, placeholder: kind.placeholder, required: true })),
    h("label", {}, "US dollars a day", h("input", { name: "usd", placeholder: "2.50, or none", required: true })),
    h("label", {}, "Reason (optional)", h("input", { name: "reason" })),
    h("button", { type: "submit" }, "Set"),
    message);
  const request = (data) => [`/api/budgets/${path}/${encodeURIComponent(field(data, key))}`, { usdPerDay: amount(field(data, "usd")), reason: field(data, "reason") }];
  return onBudgetSubmit(form, message, request, api, changed, handled);
}

/**
 * The card: the daily budget, then the drives', then the people's — each its part redrawn by
 * refreshes above its form (kept). `drives`, `daily` or `people` (the GET answers) null: that part is not shown.
 */
export function budgetsSection(drives, daily, people, api, changed, handled) {
  return h("section", { class: "card", id: "drive-budgets-section" },
    h("h2", {}, "Budgets"),
    h("p", { class: "muted" }, "What Claude runs may spend in 24 hours, all of them together (the owner's own too), a drive's writers' alone, and one person's (who asked for them); set here, a budget holds on every worker at once and wins over the settings."),
    daily ? [h("h3", {}, "All runs"), dailyBudgetBlock(daily, api, changed), dailyBudgetForm(api, changed, handled)] : dailyBudgetBlock(null),
    drives ? [h("h3", {}, "Each drive"), driveBudgetList(drives, api, changed), holderBudgetForm(HOLDERS.drive, api, changed, handled)] : driveBudgetList(null),
    people ? [h("h3", {}, "Each person"), personBudgetList(people, api, changed), holderBudgetForm(HOLDERS.person, api, changed, handled)] : personBudgetList(null));
}
