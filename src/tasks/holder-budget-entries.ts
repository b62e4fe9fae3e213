/**
 * Budgets per drive or per person as people read them (GET /api/budgets/drives and
 * /api/budgets/people, `ph-tasks budget`, the spend report, doctor): each holder's budget from
 * wherever it comes — set while the agents run (migrations 042, 047), named in the settings, or the
 * default — with what it spent in the last 24 hours and, spent, until when its Claude tasks wait.
 * Read fresh from the store.
 */
import type { Queryable } from "../store/db.js";
import type { HolderBudgetRow } from "../store/sql/holder-budgets/holder-budget-row.js";
import { listHolderBudgets } from "../store/sql/holder-budgets/list-holder-budgets.js";
import { selectSpendOfHolders } from "../store/sql/holder-budgets/select-spend-of-holders.js";
import { selectWindowSpend } from "../store/sql/spend/select-window-spend.js";
import type { BudgetHolder } from "./budget-holders.js";
import { holderBudgetOf, type HolderBudgetSources } from "./holder-budget.js";
import { BUDGET_WINDOW_MS, storedSetting, type Budget } from "./spend-budget.js";
import type { BudgetEntry } from "./daily-budget-entry.js";

/** At most this many budgets set while the agents run are listed (the named settings all are). */
export const LISTED_STORED = 1000;

/** A holder's budget (settingsUsd: its named one, or the default) and whose it is. */
export interface HolderBudgetEntry extends BudgetEntry {
  holder: string;
}

/** The budgets of `ids` (one without any absent), the ones set while the agents run read in one query. */
export async function holderBudgetsOf(db: Queryable, kind: BudgetHolder, sources: HolderBudgetSources, ids: readonly string[]): Promise<Map<string, Budget>> {
  const stored = new Map((ids.length === 0 ? [] : await listHolderBudgets(db, kind.kind, ids)).map((row) => [row.holder, row]));
  const budgets = new Map<string, Budget>();
  for (const id of ids) {
    const budget = holderBudgetOf(kind, sources, id, stored.get(id));
    if (budget) budgets.set(id, budget);
  }
  return budgets;
}

/** When a holder that has spent `limitUsd` has room again (ISO), or null while it has room. */
export async function holderResumesAt(db: Queryable, kind: BudgetHolder, id: string, limitUsd: number, spentUsd: number, now = Date.now()): Promise<string | null> {
  if (spentUsd < limitUsd) return null;
  const frees = (await selectWindowSpend(db, BUDGET_WINDOW_MS, limitUsd, { kind: kind.kind, id })).freesInMs;
  return frees === null ? null : new Date(now + frees).toISOString();
}

/** Every holder of `kind` with a budget of its own (set while the agents run, or named in the settings), by id. */
export async function listHolderBudgetEntries(db: Queryable, kind: BudgetHolder, sources: HolderBudgetSources, now = Date.now()): Promise<HolderBudgetEntry[]> {
  const stored = await listHolderBudgets(db, kind.kind, undefined, LISTED_STORED);
  const ids = [...new Set([...stored.map((row) => row.holder), ...Object.keys(sources.named)])].sort();
  const spend = new Map((ids.length === 0 ? [] : await selectSpendOfHolders(db, kind.kind, BUDGET_WINDOW_MS, ids)).map((row) => [row.holder, row]));
  const byId = new Map(stored.map((row) => [row.holder, row]));
  return Promise.all(ids.map((id) => entryOf(db, kind, sources, id, byId.get(id), spend.get(id) ?? { cost_usd: 0, runs: 0 }, now)));
}

/** One holder's entry, whatever gives it its budget (the default too, or none). */
export async function holderBudgetEntry(db: Queryable, kind: BudgetHolder, sources: HolderBudgetSources, id: string, now = Date.now()): Promise<HolderBudgetEntry> {
  const [[row], [spend]] = await Promise.all([listHolderBudgets(db, kind.kind, [id]), selectSpendOfHolders(db, kind.kind, BUDGET_WINDOW_MS, [id])]);
  return entryOf(db, kind, sources, id, row, spend ?? { cost_usd: 0, runs: 0 }, now);
}

async function entryOf(db: Queryable, kind: BudgetHolder, sources: HolderBudgetSources, id: string, row: HolderBudgetRow | undefined, spend: { cost_usd: number; runs: number }, now: number): Promise<HolderBudgetEntry> {
  const budget = holderBudgetOf(kind, sources, id, row);
  return {
    holder: id,
    usdPerDay: budget?.usd ?? null,
    setting: budget?.setting ?? (row ? `${storedSetting(row)}: none` : "none"),
    reason: row?.reason ?? null,
    setBy: row?.set_by ?? null,
    setAt: row?.set_at.toISOString() ?? null,
    settingsUsd: holderBudgetOf(kind, sources, id, undefined)?.usd ?? null,
    spentUsd: spend.cost_usd,
    runs: spend.runs,
    remainingUsd: budget ? Math.max(0, budget.usd - spend.cost_usd) : null,
    resumesAt: budget ? await holderResumesAt(db, kind, id, budget.usd, spend.cost_usd, now) : null,
  };
}
