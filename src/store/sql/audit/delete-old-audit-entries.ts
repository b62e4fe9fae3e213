import type { Queryable } from "../../db.js";

/** Removes the entries older than `retentionMs`; returns how many. */
export async function deleteOldAuditEntries(db: Queryable, retentionMs: number): Promise<number> {
  const { affectedRows } = await db.query("DELETE FROM ph_audit WHERE at < now() - make_interval(secs => $1::float8 / 1000.0)", [retentionMs]);
  return affectedRows;
}
