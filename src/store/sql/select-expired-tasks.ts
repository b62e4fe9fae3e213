import type { Queryable } from "../db.js";

/** The database's now as startBy is written (UTC, milliseconds, "Z"): compared as text, it sorts as time. */
const NOW_AS_START_BY = `to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Pending tasks whose startBy has passed, the most overdue first (migration 022's index). */
export async function selectExpiredTasks(db: Queryable, limit: number): Promise<{ id: string; start_by: string }[]> {
  const { rows } = await db.query<{ id: string; start_by: string }>(
    `SELECT id, params->>'startBy' AS start_by FROM ph_tasks
     WHERE status = 'pending' AND params ? 'startBy' AND params->>'startBy' < ${NOW_AS_START_BY}
     ORDER BY params->>'startBy' LIMIT $1`,
    [limit],
  );
  return rows;
}
