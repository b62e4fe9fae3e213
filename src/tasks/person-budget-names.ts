/**
 * A budget per person holds the tasks a named person asks for — a name of API_USERS or of
 * TASK_AUTHORIZED_WRITERS (known-people.ts). A budget for a name no one is known by here holds no
 * one: a misspelt `alcie=5` would look like a limit and limit nothing. Said at start (the log),
 * by doctor, and in the answer of a budget set for such a name. A warning, not an error: another
 * agent of the same store may know the name.
 */
import type { Config } from "../config.js";
import { knownPeople } from "../security/known-people.js";

const KNOWN_FROM = "API_USERS, TASK_AUTHORIZED_WRITERS";

/** The warning for a budget set for `person` while the agents run, when this agent knows no one by that name. */
export function unknownPersonWarning(person: string, known: readonly string[]): string | undefined {
  return known.includes(person) ? undefined : `no one is known as ${person} to this agent (${KNOWN_FROM}): the budget holds no task until someone is`;
}

/** What is wrong with the settings' budgets per person, if anything: names no one is known by, or a default with no one named. */
export function personBudgetSettingsProblem(config: Config): string | undefined {
  const known = knownPeople(config);
  const unknown = Object.keys(config.TASK_PERSON_BUDGETS_USD_PER_DAY).filter((name) => !known.includes(name));
  if (unknown.length > 0) return `TASK_PERSON_BUDGETS_USD_PER_DAY names ${unknown.join(", ")}, whom this agent does not know (${KNOWN_FROM}): ${unknown.length === 1 ? "that budget holds" : "those budgets hold"} no task here`;
  if (config.TASK_BUDGET_USD_PER_PERSON_PER_DAY !== undefined && known.length === 0) return `TASK_BUDGET_USD_PER_PERSON_PER_DAY holds no one: no one is named here (${KNOWN_FROM}), and tasks no one named asked for are not held by it`;
  return undefined;
}
