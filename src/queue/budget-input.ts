/**
 * A budget as people set it while the agents run (PUT /api/budgets/daily, PUT
 * /api/budgets/drives/:drive, and through them `ph-tasks budget` and the dashboard): US dollars
 * per 24 hours, or null for no budget at all, and why.
 */
import { z } from "zod";

/** The most a budget may be, in US dollars per 24 hours (as TASK_BUDGET_USD_PER_DAY and TASK_DRIVE_BUDGETS_USD_PER_DAY). */
export const BUDGET_MAX_USD = 1_000_000;

const USD_ALLOWED = `must be an amount in US dollars per 24 hours, more than 0 and at most ${BUDGET_MAX_USD} (e.g. 2.50), or null for no budget at all`;

export const BudgetInputSchema = z.strictObject({
  usdPerDay: z.union([z.number().positive(USD_ALLOWED).max(BUDGET_MAX_USD, USD_ALLOWED), z.null()], { error: USD_ALLOWED }),
  reason: z.string().trim().max(500, "must be at most 500 characters").default(""),
});
