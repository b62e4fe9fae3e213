/** The workers sharing this task store (migration 024): one interface over sql/workers/. */
import { CHANNELS, type Db } from "./db.js";
import { deleteWorker } from "./sql/workers/delete-worker.js";
import { forgetLostWorkers } from "./sql/workers/forget-lost-workers.js";
import { listWorkers } from "./sql/workers/list-workers.js";
import { setWorkerDrain } from "./sql/workers/set-worker-drain.js";
import { upsertWorker, type BeatAnswer } from "./sql/workers/upsert-worker.js";
import type { WorkerBeat, WorkerRow } from "./sql/workers/worker-row.js";

export class WorkerStore {
  constructor(readonly db: Db) {}

  /** Writes a worker's row; returns the drain asked of it, if any, and which agents the store admits. */
  beat(beat: WorkerBeat): Promise<BeatAnswer> {
    return upsertWorker(this.db, beat);
  }

  /**
   * Asks a worker to drain (a reason) or to claim again (undefined); false when it is not on record.
   * Announced, so the worker applies it at once rather than at its next heartbeat.
   */
  async setDrain(workerId: string, reason: string | undefined): Promise<boolean> {
    const found = await setWorkerDrain(this.db, workerId, reason);
    if (found) await this.db.notify(CHANNELS.workers, workerId);
    return found;
  }

  remove(workerId: string): Promise<void> {
    return deleteWorker(this.db, workerId);
  }

  list(): Promise<WorkerRow[]> {
    return listWorkers(this.db);
  }

  forgetLost(afterMs: number): Promise<string[]> {
    return forgetLostWorkers(this.db, afterMs);
  }
}
