import type { Queryable } from "../../db.js";

/**
 * Gives back starts a reservation did not use (ph_return_starts, migration 018): per type, the
 * entry stamped `at` in its window shrinks by `count`, or goes. Sorted like reservations.
 */
export async function returnStarts(db: Queryable, unused: readonly { type: string; at: string; count: number }[]): Promise<void> {
  const sorted = [...unused].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  await db.query("SELECT ph_return_starts($1::timestamptz[], $2::text[], $3::int[])", [sorted.map((u) => u.at), sorted.map((u) => u.type), sorted.map((u) => u.count)]);
}
