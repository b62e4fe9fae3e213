/** An entry of the audit log (migration 037). */
export interface AuditEntry {
  /** Who: a named token's or key's name, "API_TOKEN", "loopback", "hook:<name>", a document's signer. */
  actor: string;
  /** Through what: the HTTP API, a signed inbound hook delivery, a task document, a command on the store itself (`ph-tasks store copy`). */
  via: "api" | "hook" | "document" | "cli";
  /** What was asked: "POST /api/tasks/<id>/cancel", "APPROVE". */
  action: string;
  /** How it ended: the HTTP status ("201", "403"), or a document operation's "done" / "refused". */
  outcome: string;
  /** More: the document, why it was refused. */
  detail?: string | null;
  /** The client's address (HTTP). */
  remote?: string | null;
}

export interface AuditRow extends Required<AuditEntry> {
  id: string;
  at: Date;
  worker_id: string;
}
