/**
 * What one Claude run may spend (claude's --max-budget-usd, the SDK's maxBudgetUsd): the task's
 * `maxBudgetUsd` — lowering CLAUDE_MAX_BUDGET_USD, never raising it: whoever writes a document
 * may ask for a task — else CLAUDE_MAX_BUDGET_USD, and never more than what is left of the daily budget
 * (TASK_BUDGET_USD_PER_DAY, ExecutionContext.spendCapUsd). claude checks it after each model call,
 * so a run may pass it by its last call.
 */
import type { JsonObject } from "../../types.js";
import { fatal, retryable, type TaskExecutionError } from "../executor.js";
import { dollars } from "../../spend-budget.js";

export interface RunBudget {
  usd: number;
  /** Whose cap it is: the task's own, the agent's default, or what was left of the daily budget. */
  from: "task" | "default" | "daily";
}

/** The run's cap, or undefined: none. Throws when the daily budget has nothing left (a race with another worker's spend). */
export function runBudget(taskMax: number | undefined, defaultMax: number | undefined, spendCapUsd: number | undefined): RunBudget | undefined {
  const own: RunBudget | undefined = taskMax !== undefined && (defaultMax === undefined || taskMax < defaultMax) ? { usd: taskMax, from: "task" } : defaultMax !== undefined ? { usd: defaultMax, from: "default" } : undefined;
  if (spendCapUsd === undefined) return own;
  // Retried after a minute; by then the budget's hold (spend-budget.ts) keeps it waiting without using attempts.
  if (spendCapUsd <= 0) throw retryable("over_budget", "the daily budget (TASK_BUDGET_USD_PER_DAY) was spent as this run started; not started", { retryAfterMs: 60_000 });
  return own === undefined || spendCapUsd < own.usd ? { usd: spendCapUsd, from: "daily" } : own;
}

/**
 * claude stopped at the cap (`error_max_budget_usd`). At the task's own (or the default) cap it
 * failed for good — run again, it would spend as much again; at what was left of the daily budget
 * it is retried, and waits until the budget has room.
 */
export function budgetStop(budget: RunBudget | undefined, result: JsonObject): TaskExecutionError {
  const cap = budget ? dollars(budget.usd) : "its budget";
  if (budget?.from === "daily") return retryable("over_budget", `claude stopped at what was left of the daily budget (${cap}, TASK_BUDGET_USD_PER_DAY) before finishing`, { result });
  return fatal("max_budget", `claude stopped at its budget (${cap}${budget?.from === "default" ? ", CLAUDE_MAX_BUDGET_USD" : ", maxBudgetUsd"}) before finishing`, { result });
}
