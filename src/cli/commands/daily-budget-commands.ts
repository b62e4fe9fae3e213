/**
 * `ph-tasks budget daily`: the daily budget of every run that costs money (GET
 * /api/budgets/daily), set while the agents run on every worker at once (`budget daily set
 * <usd|none>`, over TASK_BUDGET_USD_PER_DAY), or given back to the setting (`budget daily remove`).
 */
import type { Command } from "commander";
import { z } from "zod";
import { ClientError, type AgentClient } from "../client.js";
import { EXIT } from "../exit-codes.js";
import { clientFor, printJson } from "./client-options.js";
import { printText } from "../terminal-text.js";
import { BlindWarningSchema, BudgetEntrySchema, describeEntry, parseUsd, warnBlind, type BudgetEntry } from "./budget-entry.js";

/** How the daily budget is named in the commands' lines. */
export const DAILY_LABEL = "all runs";

const DailySchema = z.object({ daily: BudgetEntrySchema, ...BlindWarningSchema });

/** The daily budget and its warning, or undefined from an agent older than GET /api/budgets/daily. */
export async function readDaily(client: AgentClient): Promise<{ daily: BudgetEntry; warning: string | null } | undefined> {
  try {
    return await client.request("GET", "/api/budgets/daily", DailySchema);
  } catch (error) {
    if (error instanceof ClientError && error.exitCode === EXIT.notFound) return undefined;
    throw error;
  }
}

/** An answer as the commands print it: the budget as JSON, or its line (after `prefix`) and any warning on stderr. */
function printDaily(answer: { daily: BudgetEntry; warning: string | null }, json: boolean | undefined, prefix = ""): void {
  if (json) return printJson(answer.daily);
  printText(`${prefix}${describeEntry(answer.daily, DAILY_LABEL)}`);
  warnBlind(answer);
}

export function registerDailyBudgetCommands(budget: Command): void {
  const daily = budget.command("daily").description("the daily budget of every run that costs money, all drives and the owner's own: show, set while the agents run, remove");

  daily
    .command("show", { isDefault: true })
    .description("the daily budget, whatever gives it, and what was spent in the last 24 hours")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }, command: Command) => {
      printDaily(await clientFor(command).request("GET", "/api/budgets/daily", DailySchema), flags.json);
    });

  daily
    .command("set")
    .description("hold every run that costs money to a daily budget on every worker at once (wins over TASK_BUDGET_USD_PER_DAY); 'none': no daily budget at all")
    .argument("<usd>", "US dollars per 24 hours, e.g. 20, or none")
    .option("--reason <text>", "why, shown with the budget")
    .option("--json", "print the budget as JSON")
    .action(async (usd: string, flags: { reason?: string; json?: boolean }, command: Command) => {
      const body = { usdPerDay: parseUsd(usd), ...(flags.reason !== undefined ? { reason: flags.reason } : {}) };
      printDaily(await clientFor(command).request("PUT", "/api/budgets/daily", DailySchema, body), flags.json);
    });

  daily
    .command("remove")
    .description("remove the daily budget set here: TASK_BUDGET_USD_PER_DAY holds again")
    .option("--json", "print the budget as it now is, as JSON")
    .action(async (flags: { json?: boolean }, command: Command) => {
      printDaily(await clientFor(command).request("DELETE", "/api/budgets/daily", z.object({ removed: z.literal(true), daily: BudgetEntrySchema, ...BlindWarningSchema })), flags.json, "removed; ");
    });
}
