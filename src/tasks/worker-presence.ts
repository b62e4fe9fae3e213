/**
 * This worker's row in the list of workers sharing the store (`ph-tasks workers`, /api/workers):
 * written at every heartbeat, removed when the worker stops. A worker that stops writing it for
 * longer than its lease shows as lost — the same clock on which its tasks go back to the queue.
 * Failures are logged, never thrown: the list is for people, the queue does not depend on it.
 */
import { hostname } from "node:os";
import type { Logger } from "../logger.js";
import type { WorkerBeat } from "../store/sql/workers/worker-row.js";
import type { Db } from "../store/db.js";
import { WorkerStore } from "../store/worker-store.js";
import { VERSION } from "../version.js";
import { LATEST_MIGRATION } from "../store/migrate.js";
import { incompatibility } from "../store/schema-compatibility.js";
import type { ManagerSettings } from "./manager-settings.js";

/** Lost workers stay listed this long (then forgotten by whichever worker looks next). */
export const LOST_WORKER_KEPT_MS = 3_600_000;
const FORGET_EVERY_MS = 60_000;

export class WorkerPresence {
  private readonly startedAt = new Date();
  private lastForget = 0;

  private readonly workers: WorkerStore;

  constructor(
    db: Db,
    private readonly settings: Pick<ManagerSettings, "workerId" | "maxConcurrent" | "prefetch" | "leaseMs">,
    private readonly logger: Logger,
  ) {
    this.workers = new WorkerStore(db);
  }

  /** Asked to drain (`ph-tasks workers drain`): the worker claims nothing until resumed. */
  draining = false;

  /**
   * Writes this worker's row — its state and the task types it claims now (paused ones left out) —
   * and reads back whether it is asked to drain. Returns true when that changed.
   */
  async beat(state: WorkerBeat["state"], types: readonly string[]): Promise<boolean> {
    const { workerId, maxConcurrent, prefetch, leaseMs } = this.settings;
    try {
      const answer = await this.workers.beat({ workerId, host: hostname(), pid: process.pid, version: VERSION, state, maxConcurrent, prefetch: prefetch ?? 0, leaseMs, types, startedAt: this.startedAt, schemaVersion: LATEST_MIGRATION });
      let drain = answer.drain;
      // A newer agent migrated the store to a schema this code would get wrong (029): drain, as an
      // operator would, so that the list shows why; resumed, the next beat drains it again.
      const outdated = incompatibility(answer.schema);
      if (outdated && !drain) {
        drain = { drainReason: `outdated: ${outdated}` };
        await this.workers.setDrain(workerId, drain.drainReason);
        this.logger.error({ knows: LATEST_MIGRATION, ...answer.schema }, `${outdated}; this worker claims nothing more`);
      }
      if (Date.now() - this.lastForget >= FORGET_EVERY_MS) {
        this.lastForget = Date.now();
        const forgotten = await this.workers.forgetLost(LOST_WORKER_KEPT_MS);
        if (forgotten.length > 0) this.logger.info({ workers: forgotten }, "forgot workers lost for over an hour");
      }
      const was = this.draining;
      this.draining = drain !== undefined;
      if (was === this.draining) return false;
      if (drain) this.logger.warn({ reason: drain.drainReason }, "draining: this worker claims nothing more until resumed");
      else this.logger.info("drain lifted: this worker claims again");
      return true;
    } catch (error) {
      this.logger.warn({ err: error }, "writing this worker's presence failed");
      return false;
    }
  }

  /** The worker stopped: it leaves the list (a stopped worker is not a lost one). */
  async leave(): Promise<void> {
    await this.workers.remove(this.settings.workerId).catch((error: unknown) => this.logger.warn({ err: error }, "removing this worker from the list failed"));
  }
}
