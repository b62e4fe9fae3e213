/**
 * Conversations kept for follow-ups (migration 039): one interface over sql/conversations/. The
 * transcript is stored gzip-compressed (claude's transcripts are JSON lines that shrink ~6×).
 */
import { promisify } from "node:util";
import { gunzip, gzip } from "node:zlib";
import type { Db } from "./db.js";
import { saveConversation } from "./sql/conversations/save-conversation.js";
import { selectConversation } from "./sql/conversations/select-conversation.js";
import { selectFollowUpOrigins, type FollowUpOriginRow } from "./sql/conversations/select-follow-up-origins.js";

export type { FollowUpOriginRow };

const pack = promisify(gzip);
const unpack = promisify(gunzip);

/** The most a kept conversation may take in the store, compressed (a longer one is not kept). */
export const MAX_KEPT_CONVERSATION_BYTES = 8 * 1024 * 1024;

/** A conversation as claude wrote it: its session id and its transcript (JSON lines). */
export interface Conversation {
  sessionId: string;
  transcript: Buffer;
}

export class ConversationStore {
  constructor(private readonly db: Db) {}

  /** Keeps a run's conversation as its task's; false (nothing kept) when it is too long. */
  async save(taskId: string, attempt: number, conversation: Conversation): Promise<boolean> {
    const packed = await pack(conversation.transcript);
    if (packed.length > MAX_KEPT_CONVERSATION_BYTES) return false;
    await saveConversation(this.db, taskId, attempt, conversation.sessionId, packed, conversation.transcript.length);
    return true;
  }

  /** The conversation a task's last run left, if it was kept. */
  async load(taskId: string): Promise<Conversation | undefined> {
    const row = await selectConversation(this.db, taskId);
    return row ? { sessionId: row.session_id, transcript: await unpack(row.transcript) } : undefined;
  }

  origins(ids: readonly string[]): Promise<FollowUpOriginRow[]> {
    return selectFollowUpOrigins(this.db, ids);
  }
}
