/**
 * The heartbeat's renewal of this worker's leases: every task it holds (running, or claimed ahead
 * and waiting for a slot) keeps its lease; one cancelled from another process is stopped here (its
 * cancel_requested comes back with the renewal); one whose lease was lost (this worker stalled
 * past it, and another may run the task now) is let go.
 */
import type { TaskStore } from "../store/task-store.js";

export interface LeaseRenewal {
  store: TaskStore;
  workerId: string;
  leaseMs: number;
  /** The ids of the tasks this worker holds now. */
  held: () => string[];
  /** This worker's run of a task now (compared by identity: a run that ended and was claimed again is another). */
  runOf: (id: string) => unknown;
  stop: (id: string, cause: "cancel" | "shutdown") => void;
}

export async function renewHeldLeases(renewal: LeaseRenewal): Promise<void> {
  const ids = renewal.held();
  if (ids.length === 0) return;
  // The runs as they are now: while the renewal is out, a run may end, its task go back to the
  // queue (a retry) and this worker claim it again — that new run's lease is not in question.
  const asked = new Map(ids.map((id) => [id, renewal.runOf(id)]));
  const held = await renewal.store.renewLeases(renewal.workerId, ids, renewal.leaseMs);
  const heldIds = new Set(held.map((r) => r.id));
  for (const row of held) if (row.cancel_requested) renewal.stop(row.id, "cancel");
  for (const [id, run] of asked) if (!heldIds.has(id) && renewal.runOf(id) === run) renewal.stop(id, "shutdown");
}
