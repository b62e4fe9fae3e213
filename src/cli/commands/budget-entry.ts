/** A budget as the CLI reads and says it (GET /api/budgets/daily, /api/budgets/drives; tasks/daily-budget-entry.ts), and an amount as typed. */
import { z } from "zod";
import { ClientError } from "../client.js";
import { EXIT } from "../exit-codes.js";
import { dollars } from "../../tasks/spend-budget.js";
import { printNotice } from "../terminal-text.js";

/** A budget as GET /api/budgets/daily and /api/budgets/drives answer it (tasks/daily-budget-entry.ts). */
export const BudgetEntrySchema = z.object({
  usdPerDay: z.number().nullable(),
  setting: z.string(),
  reason: z.string().nullable(),
  setBy: z.string().nullable(),
  setAt: z.string().nullable(),
  settingsUsd: z.number().nullable(),
  spentUsd: z.number(),
  runs: z.number(),
  remainingUsd: z.number().nullable(),
  resumesAt: z.string().nullable(),
});
export type BudgetEntry = z.infer<typeof BudgetEntrySchema>;

/** What is left of a budget, or that it is spent and until when, or that there is none. */
export function standing(entry: BudgetEntry): string {
  if (entry.usdPerDay === null) return "no budget";
  if (entry.resumesAt) return `spent — waits until ${entry.resumesAt}`;
  return `${dollars(entry.remainingUsd ?? 0)} left`;
}

/** One budget, as `budget set` and `budget remove` say it: `label` names whose (a drive, or all runs). */
export function describeEntry(entry: BudgetEntry, label: string): string {
  const budget = entry.usdPerDay === null ? "no daily budget" : `a daily budget of ${dollars(entry.usdPerDay)}`;
  const spent = `${dollars(entry.spentUsd)} spent in the last 24 hours${entry.usdPerDay === null ? "" : ` (${standing(entry)})`}`;
  const by = entry.setBy ? `, set by ${entry.setBy}${entry.reason ? `: ${entry.reason}` : ""}` : entry.setting === "none" ? "" : ` (${entry.setting})`;
  return `${label}: ${budget}${by}; ${spent}\n`;
}

/** An amount in US dollars as typed (more than 0), or "none": null. */
export function parseUsd(text: string): number | null {
  if (text === "none") return null;
  if (!/^\d+(\.\d+)?$/.test(text) || !(Number(text) > 0)) throw new ClientError(`usd: expected an amount in US dollars per 24 hours like 2.50 (more than 0), or 'none' for no budget at all; got '${text}'`, EXIT.usage);
  return Number(text);
}

/** A budget answer's warning (workers that do not read budgets set while the agents run), when there is one. */
export const BlindWarningSchema = { warning: z.string().nullable().default(null) };

/** Says the warning on stderr, after the answer. */
export function warnBlind(answer: { warning: string | null }): void {
  if (answer.warning) printNotice(`warning: ${answer.warning}\n`);
}
