/**
 * Follow-ups in a run (continueFrom; tasks/follow-ups.ts checks them when asked for). Before
 * claude starts, the conversation the earlier task's last run left is put back into this run's
 * config dir, and claude resumes it as a new session (--resume with --fork-session: the kept one
 * stays as it was, for other follow-ups of the same task). After the run, the transcript claude
 * wrote is kept as this task's, for follow-ups of its own — the run's home, where claude keeps it,
 * is removed when the run ends. claude finds a session by its id in any project folder of its
 * config dir (measured on the pinned binary), so the folder's name does not matter.
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { JsonObject } from "../../types.js";
import { fatal, retryable, type ExecutionContext } from "../executor.js";

/** What claude names sessions (a UUID); anything else is not used as a file name. */
const SESSION_ID = /^[A-Za-z0-9-]{1,100}$/;
const FOLDER = "follow-up";

/**
 * Puts the conversation `continueFrom` names where claude will find it; returns its session id
 * (for --resume), or undefined when the task continues nothing. Call before the home is handed to
 * a run user (claudeEnvironment), so that the file is theirs too.
 */
export async function placeConversation(continueFrom: string | undefined, ctx: ExecutionContext, configDir: string): Promise<string | undefined> {
  if (continueFrom === undefined) return undefined;
  if (!ctx.conversations) throw fatal("no_conversation", "continueFrom: conversations are kept in the task store; run the follow-up through the agent (ph-tasks submit), not ph-tasks run");
  let kept: Awaited<ReturnType<NonNullable<ExecutionContext["conversations"]>["load"]>>;
  try {
    kept = await ctx.conversations.load(continueFrom);
  } catch (error) {
    throw retryable("store_unavailable", `reading the conversation of task ${continueFrom} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!kept || !SESSION_ID.test(kept.sessionId)) {
    throw fatal("no_conversation", `continueFrom: task ${continueFrom} has no conversation kept (removed with its task, never started claude, or too long to keep)`);
  }
  const folder = path.join(configDir, "projects", FOLDER);
  await mkdir(folder, { recursive: true });
  await writeFile(path.join(folder, `${kept.sessionId}.jsonl`), kept.transcript, { mode: 0o600 });
  ctx.progress({ kind: "notice", message: `continuing the conversation of task ${continueFrom} (${kept.transcript.length} bytes)` });
  return kept.sessionId;
}

/**
 * Keeps the conversation of the session claude ran as this task's; the result's fields saying so.
 * Never throws: a conversation not kept costs follow-ups, not the run.
 */
export async function keepConversation(taskId: string, ctx: ExecutionContext, configDir: string, sessionId: string | undefined): Promise<JsonObject> {
  if (!ctx.conversations || sessionId === undefined || !SESSION_ID.test(sessionId)) return {};
  try {
    const transcript = await findTranscript(path.join(configDir, "projects"), `${sessionId}.jsonl`);
    if (!transcript) return { conversationKept: false };
    if (await ctx.conversations.save(taskId, ctx.attempt, { sessionId, transcript })) return { conversationKept: true };
    ctx.progress({ kind: "notice", message: `the conversation (${transcript.length} bytes) is too long to keep: follow-ups cannot continue this task` });
  } catch (error) {
    ctx.logger.warn({ err: error, taskId }, "keeping the run's conversation failed; follow-ups cannot continue it");
  }
  return { conversationKept: false };
}

async function findTranscript(projects: string, file: string): Promise<Buffer | undefined> {
  const folders = await readdir(projects, { withFileTypes: true }).catch(() => []);
  for (const folder of folders) {
    if (!folder.isDirectory()) continue;
    const content = await readFile(path.join(projects, folder.name, file)).catch(() => undefined);
    if (content) return content;
  }
  return undefined;
}
