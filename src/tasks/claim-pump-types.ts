/** The claim pump's shapes (claim-pump.ts): what it needs from its manager, and what it holds between round trips. */
import type { Finish } from "../store/interfaces.js";
import type { ClaimedRow, FinishedRow } from "../store/sql/claim-tasks.js";
import type { Task } from "./types.js";

/** What the pump needs from the manager that owns it. */
export interface PumpHost {
  /** Runs executing now: each takes one of the worker's maxConcurrent slots. */
  executingCount(): number;
  /** The tasks of those runs (for the per-type caps). */
  executingTasks(): Iterable<Task>;
  /** The task types this worker claims now: those it has executors for, less the paused ones. */
  types(): string[];
  /** Whether this worker would claim (and so may start) a task of `type` now: not paused, not draining. */
  claims(type: string): boolean;
  /** Starts a claimed task. */
  launch(row: ClaimedRow): void;
  /** Claimed tasks went back to the queue unstarted, and why (the manager logs and announces it). */
  returned(rows: readonly ClaimedRow[], why: string): void;
  state(): "stopped" | "running" | "stopping";
}

/** A run's end waiting for the pump's next round trip. */
export interface PendingFinish {
  item: Finish;
  resolve: (row: FinishedRow | undefined) => void;
  reject: (error: unknown) => void;
}

/** A round trip in flight: the ends it records and the claim it makes. */
export interface RoundTrip {
  ending: PendingFinish[];
  want: number;
  reply: Promise<TripReply>;
}

/** A claimed task waiting for a slot. */
export interface ReadyTask {
  row: ClaimedRow;
  claimedAt: number;
  /** Of a rate-limited type: its start's entry in the type's window, given back if it goes back unstarted. */
  startAt?: string;
}

/** A round trip's answer; `startsAt`: per rate-limited type claimed, the entry its starts were reserved in. */
export interface TripReply {
  finished: FinishedRow[];
  claimed: ClaimedRow[];
  startsAt?: ReadonlyMap<string, string>;
}
