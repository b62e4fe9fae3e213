/**
 * Conversations kept for follow-ups (migration 039): one interface over sql/conversations/. The
 * transcript is stored gzip-compressed (claude's transcripts are JSON lines that shrink ~6×), the
 * agent's secrets taken out first: a transcript holds what tools read and printed (an `env` run
 * through Bash prints the API key claude is given), and the store must not keep what the task's
 * output may not show. A follow-up then continues a conversation that says [REDACTED] there — as
 * the model's reply to it, and every view of the run, already did.
 */
import { promisify } from "node:util";
import { gunzip, gzip } from "node:zlib";
import type { Redactor } from "../security/redactor.js";
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
  constructor(
    private readonly db: Db,
    /** The agent's secrets (the manager's); absent: transcripts kept as written. */
    private readonly redactor?: Redactor,
  ) {}

  /** Keeps a run's conversation as its task's, secrets taken out; false (nothing kept) when it is too long. */
  async save(taskId: string, attempt: number, conversation: Conversation): Promise<boolean> {
    // JSON lines: a secret there is a string's content, or its JSON-escaped form (Redactor knows both), so what replaces it leaves each line valid.
    const transcript = this.redactor ? Buffer.from(this.redactor.text(conversation.transcript.toString("utf8")), "utf8") : conversation.transcript;
    const packed = await pack(transcript);
    if (packed.length > MAX_KEPT_CONVERSATION_BYTES) return false;
    await saveConversation(this.db, taskId, attempt, conversation.sessionId, packed, transcript.length);
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
