import type { Queryable } from "../../db.js";
import type { AuditEntry } from "./audit-row.js";

/** Appends entries, in order, in one statement (the log is written in batches: audit-log.ts). */
export async function insertAuditEntries(db: Queryable, workerId: string, entries: readonly (AuditEntry & { at: Date })[]): Promise<void> {
  if (entries.length === 0) return;
  await db.query(
    `INSERT INTO ph_audit (at, actor, via, action, outcome, detail, remote, worker_id)
     SELECT e.at, e.actor, e.via, e.action, e.outcome, e.detail, e.remote, $2
     FROM jsonb_to_recordset($1::jsonb) AS e(at timestamptz, actor text, via text, action text, outcome text, detail text, remote text)`,
    [JSON.stringify(entries.map((e) => ({ ...e, detail: e.detail ?? null, remote: e.remote ?? null }))), workerId],
  );
}
