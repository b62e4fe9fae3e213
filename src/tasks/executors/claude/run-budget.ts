/**
 * What one Claude run may spend (claude's --max-budget-usd, the SDK's maxBudgetUsd): the task's
 * `maxBudgetUsd` — lowering CLAUDE_MAX_BUDGET_USD, never raising it: whoever writes a document
 * may ask for a task — else CLAUDE_MAX_BUDGET_USD, and never more than what is left of the daily
 * budget (TASK_BUDGET_USD_PER_DAY), of the daily budget of the drive whose writers asked for it
 * (TASK_BUDGET_USD_PER_DRIVE_PER_DAY) or of the person who asked (TASK_BUDGET_USD_PER_PERSON_PER_DAY):
 * ExecutionContext.spendCapUsd, spendCapFrom. claude checks
 * it after each model call, so a run may pass it by its last call.
 */
import type { JsonObject } from "../../types.js";
import { fatal, retryable, type ExecutionContext, type TaskExecutionError } from "../executor.js";
import { dollars } from "../../spend-budget.js";

export interface RunBudget {
  usd: number;
  /** Whose cap it is: the task's own, the agent's default, or what was left of the daily budget, its drive's or its asker's. */
  from: "task" | "default" | "daily" | "drive" | "person";
  /** The setting that gave a daily budget (a named drive's own: TASK_DRIVE_BUDGETS_USD_PER_DAY); absent: from's usual one. */
  setting?: string;
}

/** The daily budgets a run may be capped by, as people read them, and their settings. */
const DAILY_BUDGETS = {
  daily: { name: "the daily budget", setting: "TASK_BUDGET_USD_PER_DAY" },
  drive: { name: "its drive's daily budget", setting: "TASK_BUDGET_USD_PER_DRIVE_PER_DAY" },
  person: { name: "the daily budget of the person who asked", setting: "TASK_BUDGET_USD_PER_PERSON_PER_DAY" },
} as const;

/** The run's cap, or undefined: none. Throws when a daily budget has nothing left (a race with another worker's spend). */
export function runBudget(taskMax: number | undefined, defaultMax: number | undefined, ctx: Pick<ExecutionContext, "spendCapUsd" | "spendCapFrom" | "spendCapSetting">): RunBudget | undefined {
  const own: RunBudget | undefined = taskMax !== undefined && (defaultMax === undefined || taskMax < defaultMax) ? { usd: taskMax, from: "task" } : defaultMax !== undefined ? { usd: defaultMax, from: "default" } : undefined;
  const spendCap = ctx.spendCapUsd;
  if (spendCap === undefined) return own;
  const from = ctx.spendCapFrom ?? "daily";
  // Retried after a minute; by then the budget's hold (spend-budget.ts, holder-budget.ts) keeps it waiting without using attempts.
  const setting = ctx.spendCapSetting ?? DAILY_BUDGETS[from].setting;
  if (spendCap <= 0) throw retryable("over_budget", `${DAILY_BUDGETS[from].name} (${setting}) was spent as this run started; not started`, { retryAfterMs: 60_000 });
  return own === undefined || spendCap < own.usd ? { usd: spendCap, from, setting } : own;
}

/**
 * claude stopped at the cap (`error_max_budget_usd`). At the task's own (or the default) cap it
 * failed for good — run again, it would spend as much again; at what was left of a daily budget
 * it is retried, and waits until that budget has room.
 */
export function budgetStop(budget: RunBudget | undefined, result: JsonObject): TaskExecutionError {
  const cap = budget ? dollars(budget.usd) : "its budget";
  if (budget?.from === "daily" || budget?.from === "drive" || budget?.from === "person") {
    const { name } = DAILY_BUDGETS[budget.from];
    const setting = budget.setting ?? DAILY_BUDGETS[budget.from].setting;
    return retryable("over_budget", `claude stopped at what was left of ${name} (${cap}, ${setting}) before finishing`, { result });
  }
  return fatal("max_budget", `claude stopped at its budget (${cap}${budget?.from === "default" ? ", CLAUDE_MAX_BUDGET_USD" : ", maxBudgetUsd"}) before finishing`, { result });
}
