/** The audit log's table (migration 037): one interface over sql/audit/. */
import type { Db } from "./db.js";
import type { AuditEntry, AuditRow } from "./sql/audit/audit-row.js";
import { deleteOldAuditEntries } from "./sql/audit/delete-old-audit-entries.js";
import { insertAuditEntries } from "./sql/audit/insert-audit-entries.js";
import { listAuditEntries, type AuditFilter } from "./sql/audit/list-audit-entries.js";

export class AuditStore {
  constructor(readonly db: Db) {}

  append(workerId: string, entries: readonly (AuditEntry & { at: Date })[]): Promise<void> {
    return insertAuditEntries(this.db, workerId, entries);
  }

  list(filter: AuditFilter): Promise<AuditRow[]> {
    return listAuditEntries(this.db, filter);
  }

  deleteOlderThan(retentionMs: number): Promise<number> {
    return deleteOldAuditEntries(this.db, retentionMs);
  }
}
