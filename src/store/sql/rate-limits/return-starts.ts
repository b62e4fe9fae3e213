import type { Queryable } from "../../db.js";

/**
 * Gives back starts a reservation made at `at` did not use: `counts[i]` of its entries in the
 * window of `types[i]` (the newest ones stamped `at`; other reservations' entries are left alone).
 */
export async function returnStarts(db: Queryable, at: string, types: readonly string[], counts: readonly number[]): Promise<void> {
  await db.query(
    `UPDATE ph_rate_limits r
     SET starts = ARRAY(
       SELECT x.s FROM (
         SELECT u.s, u.i, row_number() OVER (PARTITION BY u.s = $1::timestamptz ORDER BY u.i DESC) AS k
         FROM unnest(r.starts) WITH ORDINALITY AS u(s, i)
       ) x
       WHERE NOT (x.s = $1::timestamptz AND x.k <= w.unused)
       ORDER BY x.i)
     FROM unnest($2::text[], $3::int[]) AS w(task_type, unused)
     WHERE r.task_type = w.task_type`,
    [at, types, counts],
  );
}
