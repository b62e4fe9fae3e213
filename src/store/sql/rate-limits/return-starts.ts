import type { Queryable } from "../../db.js";
import type { RateScope } from "./rate-limit-row.js";

/** Starts a reservation did not use: per key, its entry stamped `at` and how many to give back. */
export interface UnusedStarts {
  key: string;
  at: string;
  count: number;
}

/**
 * Gives back starts a reservation did not use (ph_return_starts, migration 018): per key, the
 * entry stamped `at` in its window shrinks by `count`, or goes. Sorted like reservations.
 */
export async function returnStarts(db: Queryable, scope: RateScope, unused: readonly UnusedStarts[]): Promise<void> {
  const sorted = [...unused].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  await db.query("SELECT ph_return_starts($1, $2::timestamptz[], $3::text[], $4::int[])", [scope, sorted.map((u) => u.at), sorted.map((u) => u.key), sorted.map((u) => u.count)]);
}
