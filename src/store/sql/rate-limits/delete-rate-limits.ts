import type { Queryable } from "../../db.js";
import type { RateScope } from "./rate-limit-row.js";

/** Lifts the rate limits of the keys given (every one of the scope when none is given); returns the keys lifted. */
export async function deleteRateLimits(db: Queryable, scope: RateScope, keys?: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ key: string }>(
    "DELETE FROM ph_rate_limits WHERE scope = $1 AND ($2::text[] IS NULL OR key = ANY($2::text[])) RETURNING key",
    [scope, keys ?? null],
  );
  return rows.map((r) => r.key);
}
