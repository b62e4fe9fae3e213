/**
 * A task document whose task has waited in the queue a while is told why (a warning notice
 * "waits: …", the reason `ph-tasks show` gives: its type paused or rate-limited, its document's or
 * drive's limit, the tasks ahead of it…). Without it a document says "queued" for as long as that
 * lasts, and whoever wrote it cannot tell a busy agent from a stuck one. Told once a task has waited
 * WAIT_TOLD_AFTER_MS, then again only when the reason has changed, looked at no more often than
 * every RECHECK_MS: the reason takes a few reads of the store. Reasons told elsewhere are left out:
 * the budgets' (said as they hold it), an approval's (asked for at once), a retry's backoff (the
 * retrying notice) and a task for later.
 */
import type { TaskRuntime } from "../store/task-store.js";
import type { Task } from "./types.js";
import type { WaitingCode, WaitingReason } from "./waiting-reason.js";

export const WAIT_TOLD_AFTER_MS = 30_000;
const RECHECK_MS = 10 * 60_000;
/** Said already by the notice of the event that made the task wait. */
const TOLD_ELSEWHERE: ReadonlySet<WaitingCode> = new Set(["over_budget", "drive_over_budget", "person_over_budget", "approval", "not_before", "dependencies"]);
/** Tasks looked at, kept at most this many (the oldest forgotten first). */
const KEPT = 10_000;

export interface WaitingNoticesDeps {
  whyWaiting(taskId: string): Promise<WaitingReason | undefined>;
  /** Writes the notice to the task's document (task-document-reports.ts). */
  tell(task: Task, reason: WaitingReason): Promise<void>;
  /** How long a task waits before its document is told why; default WAIT_TOLD_AFTER_MS. */
  afterMs?: number | undefined;
}

export class WaitingNotices {
  /** Each pending task looked at: the reason last told (undefined: none yet) and when it was looked at. */
  private readonly looked = new Map<string, { code: WaitingCode | undefined; at: number }>();

  constructor(private readonly deps: WaitingNoticesDeps) {}

  /** For a pending task whose document waits for it (the periodic catch-up): tells its document why, when due. */
  async check(task: Task & { runtime: Pick<TaskRuntime, "runAt"> }, now = Date.now()): Promise<void> {
    const since = Math.max(task.createdAt.getTime(), task.runtime.runAt.getTime());
    if (now - since < (this.deps.afterMs ?? WAIT_TOLD_AFTER_MS)) return;
    const last = this.looked.get(task.id);
    if (last && now - last.at < RECHECK_MS) return;
    const reason = await this.deps.whyWaiting(task.id);
    this.remember(task.id, last?.code, now);
    if (!reason || TOLD_ELSEWHERE.has(reason.code) || reason.code === last?.code) return;
    await this.deps.tell(task, reason);
    this.remember(task.id, reason.code, now);
  }

  /** The task no longer waits: its next wait is told afresh. */
  forget(taskId: string): void {
    this.looked.delete(taskId);
  }

  private remember(taskId: string, code: WaitingCode | undefined, at: number): void {
    this.looked.delete(taskId);
    this.looked.set(taskId, { code, at });
    if (this.looked.size > KEPT) this.looked.delete(this.looked.keys().next().value ?? taskId);
  }
}
