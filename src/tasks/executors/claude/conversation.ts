/**
 * Follow-ups in a run (continueFrom; tasks/follow-ups.ts checks them when asked for). Before
 * claude starts, the conversation the earlier task's last run left is put back into this run's
 * config dir, and claude resumes it as a new session (--resume with --fork-session: the kept one
 * stays as it was, for other follow-ups of the same task). After the run, the transcript claude
 * wrote is kept as this task's, for follow-ups of its own — the run's home, where claude keeps it,
 * is removed when the run ends. claude finds a session by its id in any project folder of its
 * config dir (measured on the pinned binary), so the folder's name does not matter.
 *
 * What a run cost is read here too. claude writes the session's cost so far into the transcript
 * (a `cost-state` line, also when stopped by SIGTERM: a cancel, a timeout), and a resumed session
 * reports what the whole conversation cost, the earlier runs' included (both measured on the pinned
 * binary) — so a run's own cost is the session's less what the resumed one had cost already.
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { JsonObject } from "../../types.js";
import { fatal, retryable, type ExecutionContext, type KeptConversation } from "../executor.js";

/** What claude names sessions (a UUID); anything else is not used as a file name. */
const SESSION_ID = /^[A-Za-z0-9-]{1,100}$/;
const FOLDER = "follow-up";

/** A conversation put back for a follow-up: its session id, and what it had cost so far (US dollars). */
export interface ResumedConversation {
  sessionId: string;
  costUsd: number;
}

/**
 * Puts the conversation `continueFrom` names where claude will find it; returns it (its session id
 * for --resume), or undefined when the task continues nothing. Call before the home is handed to
 * a run user (claudeEnvironment), so that the file is theirs too.
 */
export async function placeConversation(continueFrom: string | undefined, ctx: ExecutionContext, configDir: string): Promise<ResumedConversation | undefined> {
  if (continueFrom === undefined) return undefined;
  if (!ctx.conversations) throw fatal("no_conversation", "continueFrom: conversations are kept in the task store; run the follow-up through the agent (ph-tasks submit), not ph-tasks run");
  let kept: KeptConversation | undefined;
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
  return { sessionId: kept.sessionId, costUsd: costInTranscript(kept.transcript, kept.sessionId) ?? 0 };
}

/** The run's own cost from what claude says the session cost: less what a resumed conversation had cost. */
export function ownCost(sessionCostUsd: number, resumed: ResumedConversation | undefined): number {
  return Math.round(Math.max(0, sessionCostUsd - (resumed?.costUsd ?? 0)) * 1e9) / 1e9;
}

/** What the session had cost at its last cost-state line in the transcript, if claude wrote one. */
export function costInTranscript(transcript: Buffer, sessionId: string): number | undefined {
  let cost: number | undefined;
  for (const line of transcript.toString("utf8").split("\n")) {
    if (!line.includes('"cost-state"')) continue; // (most lines are not: no need to parse them)
    try {
      const entry = JSON.parse(line) as { type?: unknown; sessionId?: unknown; totalCostUSD?: unknown };
      if (entry.type === "cost-state" && entry.sessionId === sessionId && typeof entry.totalCostUSD === "number" && Number.isFinite(entry.totalCostUSD)) cost = entry.totalCostUSD;
    } catch {
      // a line cut short by a killed claude
    }
  }
  return cost;
}

/** What a run's transcript says once it ended: the result's fields about keeping it, and what the session cost. */
export interface SettledConversation {
  fields: JsonObject;
  /** The session's cost as claude last wrote it (undefined: it wrote none). */
  sessionCostUsd: number | undefined;
}

/**
 * Reads the transcript of the session claude ran, and keeps it as this task's conversation (with a
 * store to keep it in). Never throws: a conversation not kept costs follow-ups, not the run.
 */
export async function settleConversation(taskId: string, ctx: ExecutionContext, configDir: string, sessionId: string | undefined): Promise<SettledConversation> {
  const settled: SettledConversation = { fields: {}, sessionCostUsd: undefined };
  if (sessionId === undefined || !SESSION_ID.test(sessionId)) return settled;
  const transcript = await findTranscript(path.join(configDir, "projects"), `${sessionId}.jsonl`).catch(() => undefined);
  settled.sessionCostUsd = transcript ? costInTranscript(transcript, sessionId) : undefined;
  if (!ctx.conversations) return settled;
  settled.fields = { conversationKept: false };
  if (!transcript) return settled;
  try {
    if (await ctx.conversations.save(taskId, ctx.attempt, { sessionId, transcript })) settled.fields = { conversationKept: true };
    else ctx.progress({ kind: "notice", message: `the conversation (${transcript.length} bytes) is too long to keep: follow-ups cannot continue this task` });
  } catch (error) {
    ctx.logger.warn({ err: error, taskId }, "keeping the run's conversation failed; follow-ups cannot continue it");
  }
  return settled;
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
