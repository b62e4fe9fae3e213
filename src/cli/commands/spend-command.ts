/**
 * `ph-tasks spend`: what runs cost (GET /api/spend) — the last 24 hours against the daily budget
 * (TASK_BUDGET_USD_PER_DAY), each day by task type, the costliest tasks of the last 24 hours and
 * the drives whose writers and the people who asked for most, each against its own budget
 * (TASK_BUDGET_USD_PER_DRIVE_PER_DAY, TASK_BUDGET_USD_PER_PERSON_PER_DAY, or one set while the agents run).
 */
import type { Command } from "commander";
import { z } from "zod";
import { table, truncate } from "../format.js";
import { clientFor, printJson } from "./client-options.js";
import { printText } from "../terminal-text.js";
import { dollars, nearlySpent } from "../../tasks/spend-budget.js";
import { ClientError } from "../client.js";
import { EXIT } from "../exit-codes.js";
import { BudgetEntrySchema, describeEntry } from "./budget-entry.js";

const SpendSchema = z.looseObject({
  budgetUsdPerDay: z.number().nullable(),
  budgetSetting: z.string().nullable().default(null),
  warnAtPercent: z.number().default(80),
  last24h: z.object({ usd: z.number(), runs: z.number() }),
  remainingUsd: z.number().nullable(),
  resumesAt: z.string().nullable(),
  days: z.array(z.object({ day: z.string(), usd: z.number(), runs: z.number(), types: z.record(z.string(), z.number()) })),
  costliest: z.array(z.object({ taskId: z.string(), type: z.string(), title: z.string().nullable(), usd: z.number(), runs: z.number() })),
  budgetUsdPerDrivePerDay: z.number().nullable().default(null),
  drives: z.array(z.object({ driveId: z.string().nullable(), usd: z.number(), runs: z.number(), budgetUsd: z.number().nullable().default(null), budgetSetting: z.string().nullable().default(null), resumesAt: z.string().nullable().default(null) })).default([]),
  people: z.array(z.object({ by: z.string().nullable(), usd: z.number(), runs: z.number(), budgetUsd: z.number().nullable().default(null), budgetSetting: z.string().nullable().default(null), resumesAt: z.string().nullable().default(null) })).default([]),
});

export type SpendAnswer = z.infer<typeof SpendSchema>;

/** The first line: the last 24 hours against the budget, and whether runs wait for it. */
export function spendHeadline(spend: SpendAnswer): string {
  const last = `last 24 hours: ${dollars(spend.last24h.usd)} in ${spend.last24h.runs} run${spend.last24h.runs === 1 ? "" : "s"}`;
  if (spend.budgetUsdPerDay === null) return `${last} (no daily budget: ${spend.budgetSetting ?? "TASK_BUDGET_USD_PER_DAY"})`;
  // One set while the agents run says by whom; the setting's goes without saying.
  const whose = spend.budgetSetting !== null && spend.budgetSetting !== "TASK_BUDGET_USD_PER_DAY" ? ` (${spend.budgetSetting})` : "";
  const of = `${last} of a ${dollars(spend.budgetUsdPerDay)} daily budget${whose}`;
  if (spend.resumesAt) return `${of}: spent — Claude tasks wait until ${spend.resumesAt}`;
  return `${of}: ${dollars(spend.remainingUsd ?? 0)} left${nearlySpent(spend.last24h.usd, spend.budgetUsdPerDay, spend.warnAtPercent) ? ` — past the ${spend.warnAtPercent} % warning (TASK_BUDGET_WARN_AT_PERCENT)` : ""}`;
}

/** A row against a budget: a drive's, or a person's. */
type AgainstBudget = { usd: number; budgetUsd: number | null; budgetSetting: string | null; resumesAt: string | null };

/** A drive's budget is its own (named in the settings, or set with `ph-tasks budget`), not the default's. */
const ownBudget = (drive: AgainstBudget, defaultSetting = "TASK_BUDGET_USD_PER_DRIVE_PER_DAY") => drive.budgetSetting !== null && drive.budgetSetting !== defaultSetting;

/** The drives table's heading: whose writers asked, and against which budget. */
function driveHeading(spend: SpendAnswer): string {
  const by = "by the drive whose writers asked, in the last 24 hours";
  const perDrive = spend.budgetUsdPerDrivePerDay;
  if (perDrive !== null) return `${by}, each against a ${dollars(perDrive)} budget (TASK_BUDGET_USD_PER_DRIVE_PER_DAY)${spend.drives.some((d) => ownBudget(d)) ? " or its own (ph-tasks budget)" : ""}`;
  if (spend.drives.some((d) => d.budgetUsd !== null)) return `${by}, those with a budget of their own against it (ph-tasks budget)`;
  return `${by} (no budget per drive: TASK_BUDGET_USD_PER_DRIVE_PER_DAY)`;
}

/** A drive's (or a person's) budget as the table says it: spent and until when, what is left of it, or nothing (none); whose, when its own. */
function budgetCell(drive: AgainstBudget, defaultSetting?: string): string {
  const whose = ownBudget(drive, defaultSetting) ? ` — ${drive.budgetSetting}` : "";
  if (drive.resumesAt) return `spent — waits until ${drive.resumesAt}${whose}`;
  return drive.budgetUsd === null ? "" : `${dollars(Math.max(0, drive.budgetUsd - drive.usd))} left of ${dollars(drive.budgetUsd)}${whose}`;
}

/** Runs no one named asked for, as the people table says it. */
const NO_ONE = "(no one named: API_TOKEN, loopback, schedules, hooks, unnamed writers)";

/** The days and the costliest tasks, as the whole store's report and one holder's print them. */
function daysAndCostliest(spend: Pick<SpendAnswer, "days" | "costliest">): string {
  const days = spend.days.map((d) => [d.day, dollars(d.usd), String(d.runs), Object.entries(d.types).map(([type, usd]) => `${type} ${dollars(usd)}`).join(", ")]);
  const costliest = spend.costliest.map((t) => [t.taskId, t.type, dollars(t.usd), String(t.runs), truncate(t.title ?? "(removed)", 50)]);
  return (days.length > 0 ? `${table(["DAY (UTC)", "SPENT", "RUNS", "BY TYPE"], days)}\n` : "nothing spent in these days\n") +
    (costliest.length > 0 ? `\ncostliest in the last 24 hours:\n${table(["TASK", "TYPE", "SPENT", "RUNS", "TITLE"], costliest)}\n` : "");
}

/** What one person or one drive's writers spent (GET /api/spend/people/:person, /api/spend/drives/:drive). */
const HolderSpendSchema = z.object({ budget: BudgetEntrySchema.extend({ driveId: z.string().optional(), person: z.string().optional() }), days: SpendSchema.shape.days, costliest: SpendSchema.shape.costliest });

export function registerSpendCommand(program: Command): void {
  program
    .command("spend")
    .description("what runs cost (claude-code, claude-agent): the last 24 hours against the daily budget, each day by type, the costliest tasks, the drives whose writers asked against their budget, the people who asked; --by / --drive: what one person or one drive's writers spent")
    .option("--days <n>", "how many days (UTC) to list (1-400)", "7")
    .option("--by <person>", "only what one person asked for, against their budget")
    .option("--drive <drive>", "only what one drive's writers asked for, against its budget")
    .option("--json", "print JSON")
    .action(async (flags: { days: string; by?: string; drive?: string; json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const query = new URLSearchParams({ days: flags.days }).toString();
      if (flags.by !== undefined && flags.drive !== undefined) throw new ClientError("--by and --drive: one at a time", EXIT.usage);
      if (flags.by !== undefined || flags.drive !== undefined) {
        const [path, id, label] = flags.by !== undefined ? ["people", flags.by, flags.by] : ["drives", flags.drive ?? "", `drive ${flags.drive ?? ""}`];
        const one = await client.request("GET", `/api/spend/${path}/${encodeURIComponent(id)}?${query}`, HolderSpendSchema);
        if (flags.json) return printJson(one);
        return printText(`${describeEntry(one.budget, label)}\n${daysAndCostliest(one)}`);
      }
      const spend = await client.request("GET", `/api/spend?${query}`, SpendSchema);
      if (flags.json) return printJson(spend);
      const drives = spend.drives.map((d) => [d.driveId ?? "(the owner's own: API, CLI, schedules, hooks)", dollars(d.usd), String(d.runs), budgetCell(d)]);
      // Only worth a table once someone is named: otherwise it would say "no one" once more.
      const people = spend.people.some((p) => p.by !== null) ? spend.people.map((p) => [p.by ?? NO_ONE, dollars(p.usd), String(p.runs), budgetCell(p, "TASK_BUDGET_USD_PER_PERSON_PER_DAY")]) : [];
      // The budget column once anyone is held to one (TASK_BUDGET_USD_PER_PERSON_PER_DAY, ph-tasks budget person).
      const personBudgets = spend.people.some((p) => p.budgetUsd !== null);
      printText(
        `${spendHeadline(spend)}\n\n` +
          daysAndCostliest(spend) +
          (drives.length > 0 ? `\n${driveHeading(spend)}:\n${table(["DRIVE", "SPENT", "RUNS", "BUDGET"], drives)}\n` : "") +
          (people.length > 0 ? `\nby the person who asked, in the last 24 hours:\n${table(["WHO", "SPENT", "RUNS", ...(personBudgets ? ["BUDGET"] : [])], people.map((row) => (personBudgets ? row : row.slice(0, 3))))}\n` : ""),
      );
    });
}
