import type { Queryable } from "../db.js";
import { MIN_STEP_SECONDS, SETTLE_SECONDS } from "./roll-up-finished.js";

/**
 * The instant up to which the ended tasks are rolled up (migration 027), and whether enough time
 * has passed since to roll up again (see sql/roll-up-finished.ts).
 */
export async function selectRollupMark(db: Queryable): Promise<{ through: Date; due: boolean }> {
  const { rows } = await db.query<{ through: Date; due: boolean }>(
    `SELECT through, through < now() - interval '${SETTLE_SECONDS + MIN_STEP_SECONDS} seconds' AS due FROM ph_finished_rollup`,
  );
  const mark = rows[0];
  if (!mark) throw new Error("ph_finished_rollup has no row (migration 027 adds it)");
  return mark;
}
