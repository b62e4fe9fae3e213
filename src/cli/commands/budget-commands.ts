/**
 * `ph-tasks budget`: each drive's daily budget for the Claude runs its writers ask for (GET
 * /api/budgets/drives), set while the agents run on every worker at once (`budget set <drive>
 * <usd|none>`), or given back to the settings (`budget remove <drive>`).
 */
import type { Command } from "commander";
import { z } from "zod";
import { ClientError } from "../client.js";
import { EXIT } from "../exit-codes.js";
import { table, truncate } from "../format.js";
import { clientFor, printJson } from "./client-options.js";
import { printText } from "../terminal-text.js";
import { dollars } from "../../tasks/spend-budget.js";

const EntrySchema = z.object({
  driveId: z.string(),
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
type Entry = z.infer<typeof EntrySchema>;
const ListSchema = z.object({ defaultUsdPerDay: z.number().nullable(), drives: z.array(EntrySchema) });

/** What is left of a drive's budget, or that it is spent and until when, or that it has none. */
function standing(entry: Entry): string {
  if (entry.usdPerDay === null) return "no budget";
  if (entry.resumesAt) return `spent — waits until ${entry.resumesAt}`;
  return `${dollars(entry.remainingUsd ?? 0)} left`;
}

/** One drive, as `budget set` and `budget remove` say it. */
export function describeEntry(entry: Entry): string {
  const budget = entry.usdPerDay === null ? "no daily budget" : `a daily budget of ${dollars(entry.usdPerDay)}`;
  const spent = `${dollars(entry.spentUsd)} spent in the last 24 hours (${standing(entry)})`;
  const by = entry.setBy ? `, set by ${entry.setBy}${entry.reason ? `: ${entry.reason}` : ""}` : entry.setting === "none" ? "" : ` (${entry.setting})`;
  return `drive ${entry.driveId}: ${budget}${by}; ${spent}\n`;
}

/** An amount in US dollars as typed (more than 0), or "none": null. */
function parseUsd(text: string): number | null {
  if (text === "none") return null;
  if (!/^\d+(\.\d+)?$/.test(text) || !(Number(text) > 0)) throw new ClientError(`usd: expected an amount in US dollars per 24 hours like 2.50 (more than 0), or 'none' for no budget at all; got '${text}'`, EXIT.usage);
  return Number(text);
}

export function registerBudgetCommands(program: Command): void {
  const budget = program.command("budget").description("each drive's daily budget for the Claude runs its writers ask for: list, set while the agents run, remove");

  budget
    .command("list", { isDefault: true })
    .description("every drive with a budget of its own (set here or named in TASK_DRIVE_BUDGETS_USD_PER_DAY), with what its writers spent in the last 24 hours")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }, command: Command) => {
      const list = await clientFor(command).request("GET", "/api/budgets/drives", ListSchema);
      if (flags.json) return printJson(list);
      const head = list.defaultUsdPerDay === null ? "no budget for other drives (TASK_BUDGET_USD_PER_DRIVE_PER_DAY)" : `other drives: ${dollars(list.defaultUsdPerDay)} each (TASK_BUDGET_USD_PER_DRIVE_PER_DAY)`;
      if (list.drives.length === 0) return printText(`no drive has a budget of its own; ${head}\n`);
      const rows = list.drives.map((d) => [d.driveId, d.usdPerDay === null ? "none" : dollars(d.usdPerDay), dollars(d.spentUsd), standing(d), d.setBy ? `${d.setBy} ${d.setAt ?? ""}` : d.setting, truncate(d.reason ?? "", 40)]);
      printText(`${table(["DRIVE", "PER DAY", "SPENT (24H)", "NOW", "SET BY", "REASON"], rows)}\n${head}\n`);
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
      const answer = await clientFor(command).request("PUT", `/api/budgets/drives/${encodeURIComponent(drive)}`, z.object({ drive: EntrySchema }), body);
      if (flags.json) return printJson(answer.drive);
      printText(describeEntry(answer.drive));
    });

  budget
    .command("remove")
    .description("remove the budget set for a drive: its settings hold it again")
    .argument("<drive>", "a drive id")
    .option("--json", "print the drive's budget as it now is, as JSON")
    .action(async (drive: string, flags: { json?: boolean }, command: Command) => {
      const answer = await clientFor(command).request("DELETE", `/api/budgets/drives/${encodeURIComponent(drive)}`, z.object({ removed: z.string(), drive: EntrySchema }));
      if (flags.json) return printJson(answer.drive);
      printText(`removed; ${describeEntry(answer.drive)}`);
    });
}
