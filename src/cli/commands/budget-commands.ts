/**
 * `ph-tasks budget`: the daily budget of every run that costs money (GET /api/budgets/daily) and
 * each drive's for the Claude runs its writers ask for (GET /api/budgets/drives), set while the
 * agents run on every worker at once (`budget daily set <usd|none>`, `budget set <drive>
 * <usd|none>`), or given back to the settings (`budget daily remove`, `budget remove <drive>`).
 */
import type { Command } from "commander";
import { z } from "zod";
import { table, truncate } from "../format.js";
import { clientFor, printJson } from "./client-options.js";
import { printText } from "../terminal-text.js";
import { dollars } from "../../tasks/spend-budget.js";
import { BlindWarningSchema, BudgetEntrySchema, describeEntry, parseUsd, standing, warnBlind } from "./budget-entry.js";
import { DAILY_LABEL, readDaily, registerDailyBudgetCommands } from "./daily-budget-commands.js";

const EntrySchema = BudgetEntrySchema.extend({ driveId: z.string() });
const ListSchema = z.object({ defaultUsdPerDay: z.number().nullable(), drives: z.array(EntrySchema), ...BlindWarningSchema });

export function registerBudgetCommands(program: Command): void {
  const budget = program.command("budget").description("the daily budget of every run that costs money, and each drive's for the Claude runs its writers ask for: list, set while the agents run, remove");

  budget
    .command("list", { isDefault: true })
    .description("the daily budget, then every drive with a budget of its own (set here or named in TASK_DRIVE_BUDGETS_USD_PER_DAY), with what was spent in the last 24 hours")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const [list, daily] = await Promise.all([client.request("GET", "/api/budgets/drives", ListSchema), readDaily(client)]);
      if (flags.json) return printJson(daily ? { daily: daily.daily, ...list } : list);
      const first = daily ? describeEntry(daily.daily, DAILY_LABEL) : "";
      // The daily budget's blind workers include the drives' (its migration is the later one).
      const warned = () => warnBlind(daily?.warning ? daily : list);
      const head = list.defaultUsdPerDay === null ? "no budget for other drives (TASK_BUDGET_USD_PER_DRIVE_PER_DAY)" : `other drives: ${dollars(list.defaultUsdPerDay)} each (TASK_BUDGET_USD_PER_DRIVE_PER_DAY)`;
      if (list.drives.length === 0) return void (printText(`${first}no drive has a budget of its own; ${head}\n`), warned());
      const rows = list.drives.map((d) => [d.driveId, d.usdPerDay === null ? "none" : dollars(d.usdPerDay), dollars(d.spentUsd), standing(d), d.setBy ? `${d.setBy} ${d.setAt ?? ""}` : d.setting, truncate(d.reason ?? "", 40)]);
      printText(`${first}${table(["DRIVE", "PER DAY", "SPENT (24H)", "NOW", "SET BY", "REASON"], rows)}\n${head}\n`);
      warned();
    });

  budget
    .command("set")
    .description("hold a drive's writers to their own daily budget on every worker at once (wins over the settings); 'none': no budget at all")
    .argument("<drive>", "a drive id, as task documents' drives have it")
    .argument("<usd>", "US dollars per 24 hours, e.g. 2.50, or none")
    .option("--reason <text>", "why, shown with the budget")
    .option("--json", "print the drive's budget as JSON")
    .action(async (drive: string, usd: string, flags: { reason?: string; json?: boolean }, command: Command) => {
      const body = { usdPerDay: parseUsd(usd), ...(flags.reason !== undefined ? { reason: flags.reason } : {}) };
      const answer = await clientFor(command).request("PUT", `/api/budgets/drives/${encodeURIComponent(drive)}`, z.object({ drive: EntrySchema, ...BlindWarningSchema }), body);
      if (flags.json) return printJson(answer.drive);
      printText(describeEntry(answer.drive, `drive ${answer.drive.driveId}`));
      warnBlind(answer);
    });

  budget
    .command("remove")
    .description("remove the budget set for a drive: its settings hold it again")
    .argument("<drive>", "a drive id")
    .option("--json", "print the drive's budget as it now is, as JSON")
    .action(async (drive: string, flags: { json?: boolean }, command: Command) => {
      const answer = await clientFor(command).request("DELETE", `/api/budgets/drives/${encodeURIComponent(drive)}`, z.object({ removed: z.string(), drive: EntrySchema, ...BlindWarningSchema }));
      if (flags.json) return printJson(answer.drive);
      printText(`removed; ${describeEntry(answer.drive, `drive ${answer.drive.driveId}`)}`);
      warnBlind(answer);
    });

  registerDailyBudgetCommands(budget);
}
