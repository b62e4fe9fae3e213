// The overview's "Spend" card: what Claude runs (claude-code, claude-agent) cost (/api/spend) —
// the last 24 hours against the daily budget (TASK_BUDGET_USD_PER_DAY) as `ph-tasks spend` words
// it, a meter of the budget spent, each UTC day by task type, the costliest tasks of the last
// 24 hours linked to their pages, and the drives whose writers asked for most, each against its
// own budget (TASK_BUDGET_USD_PER_DRIVE_PER_DAY, TASK_DRIVE_BUDGETS_USD_PER_DAY) and until when it
// holds their Claude tasks, and the people who asked. Nothing spent and no budget: no card. Text from the API goes through
// textContent only (dom.js).

import { h } from "./dom.js";

/** How many UTC days the card lists (/api/spend?days=). */
export const SPEND_DAYS = 7;

/** Dollars to the cent, or to two significant figures below a cent (spend-budget.ts `dollars`). */
export function dollars(usd) {
  return usd >= 0.01 || usd === 0 ? `$${usd.toFixed(2)}` : `$${usd.toPrecision(2)}`;
}

/** The first line, worded as spend-command.ts `spendHeadline` words it; the time in the reader's locale. */
function headline(spend) {
  const { usd, runs } = spend.last24h;
  const last = `last 24 hours: ${dollars(usd)} in ${runs} run${runs === 1 ? "" : "s"}`;
  const setting = spend.budgetSetting ?? null;
  if (spend.budgetUsdPerDay === null) return `${last} (no daily budget: ${setting ?? "TASK_BUDGET_USD_PER_DAY"})`;
  const whose = setting !== null && setting !== "TASK_BUDGET_USD_PER_DAY" ? ` (${setting})` : "";
  const of = `${last} of a ${dollars(spend.budgetUsdPerDay)} daily budget${whose}`;
  if (spend.resumesAt) return `${of}: spent — Claude tasks wait until ${new Date(spend.resumesAt).toLocaleString()}`;
  return `${of}: ${dollars(spend.remainingUsd ?? 0)} left${nearlySpent(spend) ? ` — past the ${spend.warnAtPercent} % warning (TASK_BUDGET_WARN_AT_PERCENT)` : ""}`;
}

/** Past the warning share of the daily budget and not spent (spend-budget.ts `nearlySpent`). */
function nearlySpent(spend) {
  const { usd } = spend.last24h;
  return spend.budgetUsdPerDay !== null && spend.warnAtPercent !== undefined && usd < spend.budgetUsdPerDay && usd >= (spend.budgetUsdPerDay * spend.warnAtPercent) / 100;
}

/** The last 24 hours' spend against the budget, capped at 100 %. */
function budgetMeter(usd, budget, warnAtPercent) {
  const share = budget > 0 ? Math.min(1, usd / budget) : 1;
  const percent = `${Math.round(share * 100)} % of the daily budget`;
  return h("div", { class: "spend-meter" },
    h("meter", { id: "spend-meter", min: 0, max: 1, low: 0.5, high: (warnAtPercent ?? 80) / 100, optimum: 0, value: share, title: percent }),
    h("span", { class: "muted" }, percent));
}

function daysTable(days) {
  if (days.length === 0) return h("p", { class: "muted" }, `Nothing spent in the last ${SPEND_DAYS} days.`);
  const byType = (types) => Object.entries(types).map(([type, usd]) => `${type} ${dollars(usd)}`).join(", ");
  return h("div", { class: "table-wrap" }, h("table", { id: "spend-days" },
    h("thead", {}, h("tr", {}, h("th", {}, "Day (UTC)"), h("th", {}, "Spent"), h("th", {}, "Runs"), h("th", { class: "optional" }, "By type"))),
    h("tbody", {}, days.map((d) => h("tr", { "data-day": d.day },
      h("td", {}, d.day), h("td", {}, dollars(d.usd)), h("td", {}, String(d.runs)), h("td", { class: "optional" }, byType(d.types)))))));
}

/** A removed task (its title null) has no page to link to. */
function costliestTable(costliest) {
  return h("div", { class: "table-wrap" }, h("table", { id: "spend-costliest" },
    h("thead", {}, h("tr", {}, h("th", {}, "Task"), h("th", { class: "optional" }, "Type"), h("th", {}, "Spent"), h("th", {}, "Runs"))),
    h("tbody", {}, costliest.map((t) => h("tr", { "data-task": t.taskId },
      h("td", { class: "title" }, t.title === null
        ? h("span", { class: "muted removed", title: t.taskId }, "(removed)")
        : h("a", { href: `#/tasks/${encodeURIComponent(t.taskId)}`, title: t.title }, t.title)),
      h("td", { class: "optional" }, t.type), h("td", {}, dollars(t.usd)), h("td", {}, String(t.runs)))))));
}

/** A row's budget (a drive's or a person's): spent and until when, what is left of it, or nothing; whose, when its own (named in the settings, or set with ph-tasks budget or the Budgets card). */
function budgetCell(row, defaultSetting) {
  const whose = row.budgetSetting && row.budgetSetting !== defaultSetting ? ` — ${row.budgetSetting}` : "";
  if (row.resumesAt) return `spent — waits until ${new Date(row.resumesAt).toLocaleString()}${whose}`;
  return row.budgetUsd === null || row.budgetUsd === undefined ? "" : `${dollars(Math.max(0, row.budgetUsd - row.usd))} left of ${dollars(row.budgetUsd)}${whose}`;
}

/** Whose writers asked (null: the owner's own tasks), and — past the drive's budget — until when its Claude tasks wait. */
function drivesTable(drives, perDrive) {
  return h("div", { class: "table-wrap" }, h("table", { id: "spend-drives" },
    h("thead", {}, h("tr", {}, h("th", {}, "Drive"), h("th", {}, "Spent"), h("th", { class: "optional" }, "Runs"), h("th", {}, perDrive === null ? "Budget" : `Budget (${dollars(perDrive)} a day unless its own)`))),
    h("tbody", {}, drives.map((d) => h("tr", { "data-drive": d.driveId ?? "", class: d.resumesAt ? "error-text" : "" },
      h("td", { class: "title" }, d.driveId ?? h("span", { class: "muted" }, "the owner's own (API, CLI, schedules, hooks)")),
      h("td", {}, dollars(d.usd)), h("td", { class: "optional" }, String(d.runs)), h("td", {}, budgetCell(d, "TASK_BUDGET_USD_PER_DRIVE_PER_DAY")))))));
}

/** Who asked, as the agent proved it (null: no one named), the costliest first; against their budget once anyone has one. */
function peopleTable(people, perPerson) {
  const budgets = perPerson !== null || people.some((p) => p.budgetUsd !== null && p.budgetUsd !== undefined);
  return h("div", { class: "table-wrap" }, h("table", { id: "spend-people" },
    h("thead", {}, h("tr", {}, h("th", {}, "Who"), h("th", {}, "Spent"), h("th", { class: "optional" }, "Runs"), budgets ? h("th", {}, perPerson === null ? "Budget" : `Budget (${dollars(perPerson)} a day unless their own)`) : null)),
    h("tbody", {}, people.map((p) => h("tr", { "data-by": p.by ?? "", class: p.resumesAt ? "error-text" : "" },
      h("td", { class: "title" }, p.by ?? h("span", { class: "muted" }, "no one named (API_TOKEN, loopback, schedules, hooks, unnamed writers)")),
      h("td", {}, dollars(p.usd)), h("td", { class: "optional" }, String(p.runs)), budgets ? h("td", {}, budgetCell(p, "TASK_BUDGET_USD_PER_PERSON_PER_DAY")) : null)))));
}

/** The card from GET /api/spend's answer; null (no such route, or it failed), or nothing spent without a budget: an empty placeholder. */
export function spendSection(spend) {
  if (!spend || (spend.budgetUsdPerDay === null && spend.last24h.runs === 0 && spend.days.length === 0)) return h("div", { id: "spend-section" });
  return h("section", { class: "card", id: "spend-section" },
    h("h2", {}, "Spend"),
    h("p", { id: "spend-headline", class: spend.resumesAt ? "error-text" : nearlySpent(spend) ? "warning-text" : "" }, headline(spend)),
    spend.budgetUsdPerDay === null ? null : budgetMeter(spend.last24h.usd, spend.budgetUsdPerDay, spend.warnAtPercent),
    h("div", { class: "grid spend-tables" },
      h("div", {}, h("h3", {}, "By day"), daysTable(spend.days)),
      spend.costliest.length === 0 ? null : h("div", {}, h("h3", {}, "Costliest in the last 24 hours"), costliestTable(spend.costliest)),
      (spend.drives ?? []).length === 0 ? null : h("div", {}, h("h3", {}, "By drive in the last 24 hours"), drivesTable(spend.drives, spend.budgetUsdPerDrivePerDay ?? null)),
      // Only once someone is named: a table of "no one" says nothing the headline does not.
      !(spend.people ?? []).some((p) => p.by !== null) ? null : h("div", {}, h("h3", {}, "By person in the last 24 hours"), peopleTable(spend.people, spend.budgetUsdPerPersonPerDay ?? null))));
}
