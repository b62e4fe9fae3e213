/**
 * `ph-tasks budget`: the daily budget of every run that costs money (GET /api/budgets/daily), each
 * drive's for the Claude runs its writers ask for (GET /api/budgets/drives) and each person's for
 * what they ask for (GET /api/budgets/people), set while the agents run on every worker at once
 * (`budget daily set <usd|none>`, `budget set <drive> <usd|none>`, `budget person set <name>
 * <usd|none>`), or given back to the settings (`… remove`).
 */
import type { Command } from "commander";
import { ClientError } from "../client.js";
import { EXIT } from "../exit-codes.js";
import { clientFor, printJson } from "./client-options.js";
import { printText } from "../terminal-text.js";
import { describeEntry, warnBlind } from "./budget-entry.js";
import { DAILY_LABEL, readDaily, registerDailyBudgetCommands } from "./daily-budget-commands.js";
import { DRIVE_NAMES, holderTable, PERSON_NAMES, readHolders, registerHolderChanges, showHolder } from "./holder-budget-commands.js";
import { z } from "zod";

export function registerBudgetCommands(program: Command): void {
  const budget = program.command("budget").description("the daily budget of every run that costs money, each drive's for the Claude runs its writers ask for, and each person's: list, set while the agents run, remove");

  budget
    .command("list", { isDefault: true })
    .description("the daily budget, then every drive and every person with a budget of their own (set here or named in the settings), with what was spent in the last 24 hours")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const [drives, people, daily] = await Promise.all([readHolders(client, DRIVE_NAMES), readHolders(client, PERSON_NAMES), readDaily(client)]);
      if (!drives) throw new ClientError("this agent has no budgets per drive (GET /api/budgets/drives: not found); upgrade it", EXIT.notFound);
      // People are listed once anyone may be held: a default, a named person, or one set here.
      const listPeople = people && (people.defaultUsdPerDay !== null || people.entries.length > 0);
      if (flags.json) return printJson({ ...(daily ? { daily: daily.daily } : {}), defaultUsdPerDay: drives.defaultUsdPerDay, drives: drives.entries, ...(people ? { personDefaultUsdPerDay: people.defaultUsdPerDay, people: people.entries } : {}) });
      const first = daily ? describeEntry(daily.daily, DAILY_LABEL) : "";
      printText(`${first}${holderTable(drives, DRIVE_NAMES)}${listPeople ? holderTable(people, PERSON_NAMES) : ""}`);
      // Each kind's own warning (a worker may read one kind and not a later one); people's once they are listed.
      for (const answer of [daily, drives, listPeople ? people : undefined]) if (answer) warnBlind(answer);
    });

  registerHolderChanges(budget, DRIVE_NAMES);
  registerDailyBudgetCommands(budget);
  registerPersonBudgetCommands(budget);
}

function registerPersonBudgetCommands(budget: Command): void {
  const person = budget.command("person").description("each person's daily budget for the runs that cost money they ask for (a named token of API_USERS, a named app key): list, set while the agents run, remove");
  person
    .command("list", { isDefault: true })
    .description("every person with a budget of their own (set here or named in TASK_PERSON_BUDGETS_USD_PER_DAY), with what they spent in the last 24 hours")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }, command: Command) => {
      const people = await readHolders(clientFor(command), PERSON_NAMES);
      if (!people) throw new ClientError("this agent has no budgets per person (GET /api/budgets/people: not found); upgrade it", EXIT.notFound);
      if (flags.json) return printJson({ defaultUsdPerDay: people.defaultUsdPerDay, people: people.entries });
      printText(holderTable(people, PERSON_NAMES));
      warnBlind(people);
    });
  person
    .command("show")
    .description("one person's daily budget, whatever gives it (their own, the default, or none), and what they spent in the last 24 hours; without a name, your own (a named token)")
    .argument("[person]", "a person's name; default: the name of the token in use (API_USERS, API_READERS)")
    .option("--json", "print JSON")
    .action(async (name: string | undefined, flags: { json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const whose = name ?? (await client.request("GET", "/api/access", z.looseObject({ name: z.string().optional() }))).name;
      if (whose === undefined) throw new ClientError("name a person: this token is not a named one (API_USERS, API_READERS)", EXIT.usage);
      await showHolder(client, PERSON_NAMES, whose, flags.json);
    });
  registerHolderChanges(person, PERSON_NAMES);
}
