import type { Queryable } from "../../db.js";
import type { AuditRow } from "./audit-row.js";

export interface AuditFilter {
  since?: Date | undefined;
  actor?: string | undefined;
  /** Entries older than this id only (the next page). */
  before?: string | undefined;
  limit: number;
}

/** Newest first (by the number, not the text `id` is returned as), through ph_audit_actor for one actor's, the primary key otherwise. */
export async function listAuditEntries(db: Queryable, filter: AuditFilter): Promise<AuditRow[]> {
  const { rows } = await db.query<AuditRow>(
    `SELECT id::text AS id, at, actor, via, action, outcome, detail, remote, worker_id FROM ph_audit
     WHERE ($1::timestamptz IS NULL OR at >= $1) AND ($2::text IS NULL OR actor = $2) AND ($3::bigint IS NULL OR id < $3)
     ORDER BY ph_audit.id DESC LIMIT $4`,
    [filter.since ?? null, filter.actor ?? null, filter.before ?? null, filter.limit],
  );
  return rows;
}
