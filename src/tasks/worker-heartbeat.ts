/**
 * A worker's heartbeat (every TASK_LEASE_MS / 3, at most a second): says it is alive (its row in
 * the list of workers), applies a drain asked for or lifted, returns tasks claimed ahead that
 * waited too long for a slot, renews the leases of what it holds (stopping runs cancelled from
 * other processes), and recovers the tasks of workers whose leases ran out.
 */
import type { EventEmitter } from "node:events";
import type { Logger } from "../logger.js";
import type { TaskStore } from "../store/task-store.js";
import type { ClaimPump } from "./claim-pump.js";
import type { HeldTasks } from "./held-tasks.js";
import { recoverExpiredTasks } from "./lease-recovery.js";
import { renewHeldLeases } from "./lease-renewal.js";
import { announceReturned, type TaskLifecycleEvents } from "./task-events.js";
import type { WorkerPresence } from "./worker-presence.js";

export interface HeartbeatDeps {
  store: TaskStore;
  workerId: string;
  leaseMs: number;
  presence: WorkerPresence;
  pump: ClaimPump;
  held: HeldTasks;
  events: EventEmitter<TaskLifecycleEvents>;
  logger: Logger;
  /** The types this worker would claim now (not paused), for its row. */
  claimableTypes: () => string[];
  /** Everything it holds: running, and claimed ahead. */
  heldTaskIds: () => string[];
  /** Stops a task it holds (a cancel heard through its lease, or a lease lost). */
  stop: (id: string, cause: "cancel" | "shutdown") => boolean;
  /** More may be claimed now. */
  wake: () => void;
}

export class WorkerHeartbeat {
  constructor(private readonly deps: HeartbeatDeps) {}

  async beat(): Promise<void> {
    const { deps } = this;
    await this.announce();
    if (!deps.presence.draining) for (const row of await deps.pump.releaseStale()) announceReturned(deps.logger, deps.events, row, "waited too long for a slot");
    await renewHeldLeases({ store: deps.store, workerId: deps.workerId, leaseMs: deps.leaseMs, held: deps.heldTaskIds, runOf: (id) => deps.held.get(id), stop: deps.stop });
    if ((await recoverExpiredTasks(deps.store, deps.logger, deps.events)) > 0) deps.wake();
  }

  /** A drain asked for or lifted: applied now, not at the next heartbeat. */
  drainAnnounced(workerId: string, stopping: boolean): void {
    if (workerId !== this.deps.workerId || stopping) return;
    this.announce().catch((error: unknown) => this.deps.logger.error({ err: error }, "applying a drain failed; the next heartbeat tries again"));
  }

  /** Writes this worker's row and applies a drain asked for (what it claimed ahead goes back at once) or lifted. */
  private async announce(): Promise<void> {
    const { deps } = this;
    if (await deps.presence.beat("running", deps.claimableTypes())) deps.wake();
    if (deps.presence.draining) for (const row of await deps.pump.releaseStale(-1)) announceReturned(deps.logger, deps.events, row, "worker draining");
  }
}
