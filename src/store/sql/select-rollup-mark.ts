import type { Queryable } from "../db.js";
import { MIN_STEP_SECONDS, SETTLE_SECONDS } from "./roll-up-finished.js";

/**
 * The instant up to which the ended tasks are rolled up (migration 027), how far the next rollup
 * may go, and whether that is far enough to do it (see sql/roll-up-finished.ts).
 *
 * The next rollup stops SETTLE_SECONDS ago, and never past the start of the oldest transaction in
 * flight among this store's sessions (those with its application name: postgres-db.ts): a finish's
 * finished_at is its transaction's start, so an end older than that may still be uncommitted (a
 * finish waiting on a lock) and would be missed for good. Other sessions — a backup's long
 * transaction, another store's — do not hold it back.
 * Both instants are whole milliseconds — what a JavaScript Date holds — so the mark read here is
 * the value stored, to the microsecond, when it comes back as a parameter.
 */
export async function selectRollupMark(db: Queryable): Promise<{ through: Date; upTo: Date; due: boolean }> {
  const { rows } = await db.query<{ through: Date; up_to: Date; due: boolean }>(
    `SELECT r.through, b.up_to, b.up_to >= r.through + interval '${MIN_STEP_SECONDS} seconds' AS due
     FROM ph_finished_rollup r,
          (SELECT date_trunc('milliseconds', least(now() - interval '${SETTLE_SECONDS} seconds',
             (SELECT min(xact_start) FROM pg_stat_activity
              WHERE datname = current_database() AND application_name = current_setting('application_name') AND pid <> pg_backend_pid()))) AS up_to) b`,
  );
  const mark = rows[0];
  if (!mark) throw new Error("ph_finished_rollup has no row (migration 027 adds it)");
  return { through: mark.through, upTo: mark.up_to, due: mark.due };
}
