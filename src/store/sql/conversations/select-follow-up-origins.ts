import type { Queryable } from "../../db.js";
import type { TaskSource, TaskStatus } from "../../../tasks/types.js";

/** What a follow-up needs to know of the task it continues (follow-ups.ts). */
export interface FollowUpOriginRow {
  id: string;
  type: string;
  status: TaskStatus;
  source: TaskSource | null;
  project_path: string | null;
  /** Its conversation's size as claude wrote it; null when none is kept. */
  conversation_bytes: number | null;
}

/** The tasks named by follow-ups' continueFrom, with whether a conversation of theirs is kept. */
export async function selectFollowUpOrigins(db: Queryable, ids: readonly string[]): Promise<FollowUpOriginRow[]> {
  const { rows } = await db.query<FollowUpOriginRow>(
    `SELECT t.id, t.type, t.status, t.source, t.params->>'projectPath' AS project_path, c.bytes AS conversation_bytes
     FROM ph_tasks t LEFT JOIN ph_conversations c ON c.task_id = t.id
     WHERE t.id = ANY($1::text[])`,
    [ids],
  );
  return rows;
}
