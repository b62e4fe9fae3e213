import type { Queryable } from "../../db.js";

export interface OlderWorkerRow {
  worker_id: string;
  host: string;
  version: string;
  /** The newest migration its code knows; null for workers older than migration 029. */
  schema_version: number | null;
}

/** The workers heard from within their lease whose code knows no migration as new as `migration` (at most `limit`). */
export async function selectWorkersBelowSchema(db: Queryable, migration: number, limit: number): Promise<OlderWorkerRow[]> {
  const { rows } = await db.query<OlderWorkerRow>(
    `SELECT worker_id, host, version, schema_version FROM ph_workers
      WHERE coalesce(schema_version, 0) < $1 AND last_seen_at >= now() - make_interval(secs => lease_ms / 1000.0)
      ORDER BY worker_id LIMIT $2`,
    [migration, limit],
  );
  return rows;
}
