/**
 * The budgets per holder as the CLI lists, sets and removes them: each drive's (`ph-tasks budget
 * set <drive> <usd|none>`, GET/PUT/DELETE /api/budgets/drives) and each person's (`ph-tasks budget
 * person set <name> <usd|none>`, /api/budgets/people). One set of commands, named per kind.
 */
import type { Command } from "commander";
import { z } from "zod";
import { ClientError, type AgentClient } from "../client.js";
import { EXIT } from "../exit-codes.js";
import { table, truncate } from "../format.js";
import { clientFor, printJson } from "./client-options.js";
import { printText } from "../terminal-text.js";
import { dollars } from "../../tasks/spend-budget.js";
import { BlindWarningSchema, BudgetEntrySchema, describeEntry, parseUsd, standing, warnBlind } from "./budget-entry.js";

/** How one kind of holder is named: its routes, its answers' fields, its column, its settings. */
export interface HolderNames {
  /** /api/budgets/<path> */
  path: "drives" | "people";
  /** The answer's field for one entry, and the entry's field naming whose it is. */
  one: "drive" | "person";
  idField: "driveId" | "person";
  column: string;
  /** An id in a line ("drive team", "alice"). */
  label(id: string): string;
  /** What the list says when no one has a budget of their own, and of the others. */
  noneOwn: string;
  others(defaultUsd: number | null): string;
  /** The argument as `set` and `remove` take it. */
  argument: string;
  argumentHelp: string;
  setHelp: string;
  removeHelp: string;
}

export const DRIVE_NAMES: HolderNames = {
  path: "drives",
  one: "drive",
  idField: "driveId",
  column: "DRIVE",
  label: (id) => `drive ${id}`,
  noneOwn: "no drive has a budget of its own",
  others: (usd) => (usd === null ? "no budget for other drives (TASK_BUDGET_USD_PER_DRIVE_PER_DAY)" : `other drives: ${dollars(usd)} each (TASK_BUDGET_USD_PER_DRIVE_PER_DAY)`),
  argument: "<drive>",
  argumentHelp: "a drive id, as task documents' drives have it",
  setHelp: "hold a drive's writers to their own daily budget on every worker at once (wins over the settings); 'none': no budget at all",
  removeHelp: "remove the budget set for a drive: its settings hold it again",
};

export const PERSON_NAMES: HolderNames = {
  path: "people",
  one: "person",
  idField: "person",
  column: "PERSON",
  label: (id) => id,
  noneOwn: "no one has a budget of their own",
  others: (usd) => (usd === null ? "no budget for other people (TASK_BUDGET_USD_PER_PERSON_PER_DAY)" : `other people: ${dollars(usd)} each (TASK_BUDGET_USD_PER_PERSON_PER_DAY)`),
  argument: "<person>",
  argumentHelp: "a person's name, as API_USERS or TASK_AUTHORIZED_WRITERS name them",
  setHelp: "hold what one person asks for to their own daily budget on every worker at once (wins over the settings); 'none': no budget at all",
  removeHelp: "remove the budget set for a person: the settings hold them again",
};

/** An entry of either kind: whose it is in `driveId` or `person`. */
const EntrySchema = BudgetEntrySchema.extend({ driveId: z.string().optional(), person: z.string().optional() });
type Entry = z.infer<typeof EntrySchema>;
const ListSchema = z.object({ defaultUsdPerDay: z.number().nullable(), drives: z.array(EntrySchema).optional(), people: z.array(EntrySchema).optional(), ...BlindWarningSchema });
const OneSchema = z.object({ drive: EntrySchema.optional(), person: EntrySchema.optional(), ...BlindWarningSchema });

/** A kind's list as GET /api/budgets/<path> answers it. */
export interface HolderList {
  defaultUsdPerDay: number | null;
  entries: Entry[];
  warning: string | null;
}

/** The list, or undefined from an agent older than the route (404). */
export async function readHolders(client: AgentClient, names: HolderNames): Promise<HolderList | undefined> {
  try {
    const answer = await client.request("GET", `/api/budgets/${names.path}`, ListSchema);
    return { defaultUsdPerDay: answer.defaultUsdPerDay, entries: answer[names.path] ?? [], warning: answer.warning };
  } catch (error) {
    if (error instanceof ClientError && error.exitCode === EXIT.notFound) return undefined;
    throw error;
  }
}

/** The list as a table of those with a budget of their own, then the line of the others. */
export function holderTable(list: HolderList, names: HolderNames): string {
  const head = names.others(list.defaultUsdPerDay);
  if (list.entries.length === 0) return `${names.noneOwn}; ${head}\n`;
  const rows = list.entries.map((d) => [d[names.idField] ?? "", d.usdPerDay === null ? "none" : dollars(d.usdPerDay), dollars(d.spentUsd), standing(d), d.setBy ? `${d.setBy} ${d.setAt ?? ""}` : d.setting, truncate(d.reason ?? "", 40)]);
  return `${table([names.column, "PER DAY", "SPENT (24H)", "NOW", "SET BY", "REASON"], rows)}\n${head}\n`;
}

/** One holder's budget, whatever gives it, as `set` prints it (or JSON). */
export async function showHolder(client: AgentClient, names: HolderNames, id: string, json: boolean | undefined): Promise<void> {
  const answer = await client.request("GET", `/api/budgets/${names.path}/${encodeURIComponent(id)}`, OneSchema);
  printAnswer(answer, names, json);
}

/** An answer with one entry: the entry as JSON, or its line (after `prefix`) and any warning on stderr. */
function printAnswer(answer: z.infer<typeof OneSchema>, names: HolderNames, json: boolean | undefined, prefix = ""): void {
  const entry = answer[names.one];
  if (!entry) throw new ClientError(`unexpected answer from the agent: no '${names.one}'`, EXIT.taskFailed);
  if (json) return printJson(entry);
  printText(`${prefix}${describeEntry(entry, names.label(entry[names.idField] ?? ""))}`);
  warnBlind(answer);
}

/** `set` and `remove` for one kind, under `parent`. */
export function registerHolderChanges(parent: Command, names: HolderNames): void {
  const print = (answer: z.infer<typeof OneSchema>, json: boolean | undefined, prefix = "") => printAnswer(answer, names, json, prefix);
  parent
    .command("set")
    .description(names.setHelp)
    .argument(names.argument, names.argumentHelp)
    .argument("<usd>", "US dollars per 24 hours, e.g. 2.50, or none")
    .option("--reason <text>", "why, shown with the budget")
    .option("--json", "print the budget as JSON")
    .action(async (id: string, usd: string, flags: { reason?: string; json?: boolean }, command: Command) => {
      const body = { usdPerDay: parseUsd(usd), ...(flags.reason !== undefined ? { reason: flags.reason } : {}) };
      print(await clientFor(command).request("PUT", `/api/budgets/${names.path}/${encodeURIComponent(id)}`, OneSchema, body), flags.json);
    });
  parent
    .command("remove")
    .description(names.removeHelp)
    .argument(names.argument, names.argumentHelp)
    .option("--json", "print the budget as it now is, as JSON")
    .action(async (id: string, flags: { json?: boolean }, command: Command) => {
      print(await clientFor(command).request("DELETE", `/api/budgets/${names.path}/${encodeURIComponent(id)}`, OneSchema.extend({ removed: z.string() })), flags.json, "removed; ");
    });
}
