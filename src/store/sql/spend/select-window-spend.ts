import type { Queryable } from "../../db.js";

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
 * store's clock decides, so workers on other machines agree. With `writersDrive`: only the runs
 * that drive's writers asked for (its own budget, TASK_BUDGET_USD_PER_DRIVE_PER_DAY).
 */
export async function selectWindowSpend(db: Queryable, windowMs: number, budgetUsd: number | null, writersDrive?: string): Promise<WindowSpend> {
  const { rows } = await db.query<{ spent: number | null; runs: number; frees_in_ms: number | null }>(
    `WITH spend AS (
       SELECT recorded_at, cost_usd,
              sum(cost_usd) OVER (ORDER BY recorded_at, task_id, attempt ROWS UNBOUNDED PRECEDING) AS upto,
              sum(cost_usd) OVER () AS total
         FROM ph_run_costs
        WHERE recorded_at > now() - make_interval(secs => $1::float8 / 1000.0) AND ($3::text IS NULL OR writers_drive = $3::text)
     )
     SELECT max(total) AS spent, count(*)::int AS runs,
            CASE WHEN $2::float8 IS NOT NULL AND max(total) >= $2::float8 THEN
              ceil(extract(epoch FROM min(recorded_at) FILTER (WHERE total - upto < $2::float8)
                     + make_interval(secs => $1::float8 / 1000.0) - now()) * 1000)::float8
            END AS frees_in_ms
       FROM spend`,
    [windowMs, budgetUsd, writersDrive ?? null],
  );
  const row = rows[0];
  return { spentUsd: row?.spent ?? 0, runs: row?.runs ?? 0, freesInMs: row?.frees_in_ms === null || row?.frees_in_ms === undefined ? null : Math.max(0, row.frees_in_ms) };
}
