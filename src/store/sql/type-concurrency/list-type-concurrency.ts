import type { Queryable } from "../../db.js";
import type { TypeConcurrencyRow } from "./type-concurrency-row.js";

/** The concurrency caps (of `types`, or all), by type, each with its running count across every worker. */
export async function listTypeConcurrency(db: Queryable, types?: readonly string[]): Promise<TypeConcurrencyRow[]> {
  const { rows } = await db.query<TypeConcurrencyRow>(
    `SELECT c.task_type, c.max_running, c.reason, c.set_at,
            (SELECT count(*)::int FROM ph_tasks r WHERE r.status = 'running' AND r.type = c.task_type) AS running
     FROM ph_type_concurrency c WHERE $1::text[] IS NULL OR c.task_type = ANY($1::text[]) ORDER BY c.task_type`,
    [types ?? null],
  );
  return rows;
}
