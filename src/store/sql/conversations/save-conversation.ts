import type { Queryable } from "../../db.js";

/**
 * Keeps a task's conversation (gzip) in place of the one an earlier run of it left: a retry
 * continues from nothing, so the last run's is the task's. An earlier attempt's write arriving
 * late (its end written twice) does not replace a later one's.
 */
export async function saveConversation(db: Queryable, taskId: string, attempt: number, sessionId: string, transcript: Uint8Array, bytes: number): Promise<void> {
  await db.query(
    `INSERT INTO ph_conversations (task_id, attempt, session_id, transcript, bytes) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (task_id) DO UPDATE SET attempt = EXCLUDED.attempt, session_id = EXCLUDED.session_id, transcript = EXCLUDED.transcript, bytes = EXCLUDED.bytes, saved_at = now()
     WHERE ph_conversations.attempt <= EXCLUDED.attempt`,
    [taskId, attempt, sessionId, transcript, bytes],
  );
}
