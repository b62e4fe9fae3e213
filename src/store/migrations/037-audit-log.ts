/**
 * The audit log: who changed what, when. Why: with named tokens (API_USERS) and named app keys
 * (TASK_AUTHORIZED_WRITERS), "who cancelled this, who paused the queue, who approved the deploy"
 * has an answer, and an operator who shares the agent needs it after the fact. One row per change
 * asked for — an API request that is not a read, a signed inbound hook delivery, a run request,
 * cancel or decision on a task document — kept TASK_AUDIT_RETENTION. Reads (GET) are not
 * recorded. Additive: older agents neither read nor write it.
 */
export const name = "audit-log";

export const statements = [
  `CREATE TABLE IF NOT EXISTS ph_audit (
     id bigserial PRIMARY KEY,
     at timestamptz NOT NULL DEFAULT now(),
     actor text NOT NULL,
     via text NOT NULL,
     action text NOT NULL,
     outcome text NOT NULL,
     detail text,
     remote text,
     worker_id text NOT NULL
   )`,
  // The retention's delete and the "since" reads.
  "CREATE INDEX IF NOT EXISTS ph_audit_at ON ph_audit (at)",
  // "What did alice do": newest first through her entries only.
  "CREATE INDEX IF NOT EXISTS ph_audit_actor ON ph_audit (actor, id)",
];
