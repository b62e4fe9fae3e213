/**
 * Why a pending task has not started yet, for a person looking at it (`ph-tasks show`, the API, the
 * dashboard): the first of its dependencies, an approval's decision, a retry's (or a dependency's) time, a pause of its
 * type, the daily budget spent (a type whose runs cost money), its drive's or its asker's (holder-budget.ts), its type's full rate-limit window or concurrency cap, the per-document and per-drive limits, or simply the
 * tasks ranked before it. The limits are this agent's settings; workers configured otherwise
 * decide by theirs.
 */
import type { PauseStore } from "../store/pause-store.js";
import type { RateLimitStore } from "../store/rate-limit-store.js";
import type { TypeConcurrencyStore } from "../store/type-concurrency-store.js";
import { ALL_TYPES } from "../store/sql/pauses/pause-row.js";
import type { WaitingFacts } from "../store/sql/select-waiting-facts.js";
import { dollars, type SpentBudget } from "./spend-budget.js";

export type WaitingCode = "dependencies" | "approval" | "not_before" | "paused" | "over_budget" | "drive_over_budget" | "person_over_budget" | "rate_limited" | "type_busy" | "document_busy" | "drive_busy" | "queued";

export interface WaitingReason {
  code: WaitingCode;
  message: string;
  /** When it may start, where that is known. */
  until?: string;
  /** The tasks it waits for (dependencies). */
  tasks?: string[];
}

export interface WaitingSources {
  /** The daily budget as this agent last read it (spend-budget.ts), and the types it holds. */
  budget?: { spent(): SpentBudget | undefined };
  reportsCost?: (type: string) => boolean;
  /** Whether the drive whose writers asked for it, or the person who did, has spent its daily budget (holder-budget.ts); undefined: room, or none holds it. */
  holderBudget?: (facts: WaitingFacts) => Promise<WaitingReason | undefined>;
  pauses: PauseStore;
  rateLimits: RateLimitStore;
  concurrency: TypeConcurrencyStore;
  maxPerDocument: number;
  maxPerDrive: number;
}

/** Why a task of a type whose runs cost money waits while the daily budget is spent. */
export function dailyBudgetReason(spent: SpentBudget): WaitingReason {
  const until = new Date(spent.freesAt).toISOString();
  return { code: "over_budget", message: `the daily budget is spent (${dollars(spent.spentUsd)} of ${dollars(spent.limitUsd)} in the last 24 hours; ${spent.setting}); runs that cost money start again at ${until}`, until };
}

export async function explainWaiting(facts: WaitingFacts, sources: WaitingSources, now = Date.now()): Promise<WaitingReason> {
  if (facts.unmet.length > 0) {
    return { code: "dependencies", message: `waits for ${facts.unmet.length === 1 ? "task" : "tasks"} ${facts.unmet.join(", ")} to complete`, tasks: facts.unmet };
  }
  if (facts.awaiting_decision) {
    return { code: "approval", message: "waits for a person's decision: ph-tasks approve (or reject) it, or its document's APPROVE / REJECT" };
  }
  // Before its run-at: a task its drive's (or its asker's) budget holds went back to the queue until that has room.
  const holderSpent = sources.reportsCost?.(facts.type) ? await sources.holderBudget?.(facts) : undefined;
  if (holderSpent) return holderSpent;
  if (facts.run_at.getTime() > now) {
    return { code: "not_before", message: `not before ${facts.run_at.toISOString()} (${facts.attempts > 0 ? "a retry's backoff" : "its runAt"})`, until: facts.run_at.toISOString() };
  }
  const pause = (await sources.pauses.list()).find((p) => p.task_type === facts.type || p.task_type === ALL_TYPES);
  if (pause) {
    return { code: "paused", message: `the queue is paused for ${pause.task_type === ALL_TYPES ? "every type" : facts.type}${pause.reason ? ` (${pause.reason})` : ""}` };
  }
  const spent = sources.reportsCost?.(facts.type) ? sources.budget?.spent() : undefined;
  if (spent) return dailyBudgetReason(spent);
  const [limit] = await sources.rateLimits.list([facts.type]);
  if (limit?.next_free_at) {
    const until = limit.next_free_at.toISOString();
    return { code: "rate_limited", message: `its type's rate limit is reached (${limit.max_starts} per ${limit.per_ms / 1000} s); the next start at ${until}`, until };
  }
  const [cap] = await sources.concurrency.list([facts.type]);
  if (cap && cap.running >= cap.max_running) {
    return { code: "type_busy", message: `${cap.running} task(s) of its type running across all workers; at most ${cap.max_running} at once${cap.reason ? ` (${cap.reason})` : ""}` };
  }
  if (facts.document_running >= sources.maxPerDocument) {
    return { code: "document_busy", message: `${facts.document_running} task(s) of its document running; at most ${sources.maxPerDocument} at once` };
  }
  if (facts.drive_running >= sources.maxPerDrive) {
    return { code: "drive_busy", message: `${facts.drive_running} task(s) of its drive running; at most ${sources.maxPerDrive} at once` };
  }
  return { code: "queued", message: facts.ahead === 0 ? "next in line: it starts when a worker has a free slot" : `${facts.ahead}${facts.ahead >= 10_000 ? "+" : ""} task(s) ahead of it in the queue` };
}
