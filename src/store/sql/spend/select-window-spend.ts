import type { Queryable } from "../../db.js";
import { HOLDER_TABLES, type Holder } from "../holder-budgets/budget-holder-tables.js";

export interface WindowSpend {
  /** Spent in the window (the last `windowMs`), in US dollars. */
  spentUsd: number;
  runs: number;
  /**
   * With a budget given and spent: in how many milliseconds enough of the window's spend is older
   * than the window for the rest to be under the budget again. Null otherwise.
   */
  freesInMs: number | null;
}

/**
 * What runs cost in the last `windowMs`, and — against `budgetUsd` — when it is under the budget
 * again: the first run (oldest first) whose leaving the window brings what is left under it. The
 * store's clock decides, so workers on other machines agree. With `holder`: only the runs that
 * drive's writers, or that person, asked for (their own budget, holder-budget.ts).
 */
export async function selectWindowSpend(db: Queryable, windowMs: number, budgetUsd: number | null, holder?: Holder): Promise<WindowSpend> {
  // The window's costs: the last $1 ms, all of them or (with $3) those of one holder (its column from a closed map).
  const IN_WINDOW = `recorded_at > now() - make_interval(secs => $1::float8 / 1000.0)${holder ? ` AND ${HOLDER_TABLES[holder.kind].costColumn} = $3::text` : " AND $3::text IS NULL"}`;
  // The sum alone while under the budget (each worker reads it every few seconds); only once it
  // is spent are the window's costs ranked, oldest first, to find when enough has left it (a
  // subquery in a CASE branch runs only when the branch is taken).
  const { rows } = await db.query<{ spent: number | null; runs: number; frees_in_ms: number | null }>(
    `SELECT t.spent, t.runs,
            CASE WHEN $2::float8 IS NOT NULL AND t.spent >= $2::float8 THEN (
              SELECT ceil(extract(epoch FROM min(recorded_at) + make_interval(secs => $1::float8 / 1000.0) - now()) * 1000)::float8
                FROM (SELECT recorded_at, t.spent - sum(cost_usd) OVER (ORDER BY recorded_at, task_id, attempt ROWS UNBOUNDED PRECEDING) AS left_after
                        FROM ph_run_costs WHERE ${IN_WINDOW}) ranked
               WHERE left_after < $2::float8)
            END AS frees_in_ms
       FROM (SELECT sum(cost_usd)::float8 AS spent, count(*)::int AS runs FROM ph_run_costs WHERE ${IN_WINDOW}) t`,
    [windowMs, budgetUsd, holder?.id ?? null],
  );
  const row = rows[0];
  return { spentUsd: row?.spent ?? 0, runs: row?.runs ?? 0, freesInMs: row?.frees_in_ms === null || row?.frees_in_ms === undefined ? null : Math.max(0, row.frees_in_ms) };
}
