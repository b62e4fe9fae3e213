/**
 * A budget as people set it while the agents run (PUT /api/budgets/daily, PUT
 * /api/budgets/drives/:drive, PUT /api/budgets/people/:person, and through them `ph-tasks budget` and the dashboard): US dollars
 * per 24 hours, or null for no budget at all, and why; and the webhooks told of each change.
 */
import { z } from "zod";
import type { Logger } from "../logger.js";
import type { SpendStore } from "../store/spend-store.js";

/** The most a budget may be, in US dollars per 24 hours (as TASK_BUDGET_USD_PER_DAY and TASK_DRIVE_BUDGETS_USD_PER_DAY). */
export const BUDGET_MAX_USD = 1_000_000;

const USD_ALLOWED = `must be an amount in US dollars per 24 hours, more than 0 and at most ${BUDGET_MAX_USD} (e.g. 2.50), or null for no budget at all`;

export const BudgetInputSchema = z.strictObject({
  usdPerDay: z.union([z.number().positive(USD_ALLOWED).max(BUDGET_MAX_USD, USD_ALLOWED), z.null()], { error: USD_ALLOWED }),
  reason: z.string().trim().max(500, "must be at most 500 characters").default(""),
});

/**
 * Tells the webhooks that ask (budget.changed) of a budget set, changed or removed while the agents
 * run, as `payload` says it (which budget, the change, who, the budget as it now is). A failure is
 * logged, not thrown: the change is made, and the audit log has it.
 */
export async function tellChange(store: SpendStore, logger: Logger, payload: { kind: "daily" | "drive" | "person"; change: "set" | "removed"; by: string } & Record<string, unknown>): Promise<void> {
  try {
    const deliveries = await store.tellBudgetChange(payload);
    if (deliveries > 0) logger.info({ deliveries }, `told ${deliveries} webhook(s): budget.changed`);
  } catch (error) {
    logger.warn({ err: error }, "telling the webhooks of the budget's change failed; the audit log has it");
  }
}
