/**
 * Conversations kept for follow-ups: the transcript claude wrote during a Claude task's last run
 * (gzip), so that a later task may continue it (`continueFrom`) on any worker — the run's own
 * home, where claude keeps it, is removed when the run ends. One row per task (its last run's),
 * removed with the task (TASK_RESULT_TTL). Additive: older agents neither read nor write it.
 */
export const name = "conversations";

export const statements = [
  `CREATE TABLE IF NOT EXISTS ph_conversations (
     task_id text PRIMARY KEY REFERENCES ph_tasks (id) ON DELETE CASCADE,
     attempt integer NOT NULL,
     session_id text NOT NULL,
     transcript bytea NOT NULL,
     -- As claude wrote it (uncompressed), for the listing and the cap.
     bytes integer NOT NULL,
     saved_at timestamptz NOT NULL DEFAULT now()
   )`,
];
