import type { Queryable } from "../../db.js";

export interface ConversationRow {
  session_id: string;
  transcript: Uint8Array;
  bytes: number;
}

/** The conversation a task's last run left, if it was kept. */
export async function selectConversation(db: Queryable, taskId: string): Promise<ConversationRow | undefined> {
  const { rows } = await db.query<ConversationRow>("SELECT session_id, transcript, bytes FROM ph_conversations WHERE task_id = $1", [taskId]);
  return rows[0];
}
