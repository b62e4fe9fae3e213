/**
 * Shapes shared by the task store's SQL files, the store and the manager.
 */
import type { JsonValue, TaskError, TaskSource, TaskStatus } from "../tasks/types.js";

/** A row of ph_tasks as the SQL returns it. */
export interface TaskRow {
  id: string;
  type: string;
  title: string;
  instructions: string;
  params: Record<string, unknown>;
  status: TaskStatus;
  priority: number;
  rank_at: Date;
  attempts: number;
  max_attempts: number;
  timeout_ms: number;
  idempotency_key: string | null;
  drive_id: string | null;
  document_id: string | null;
  source: TaskSource | null;
  run_at: Date;
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  locked_by: string | null;
  /** The worker that ran it last (kept when locked_by is cleared at the end). */
  last_worker: string | null;
  lease_expires_at: Date | null;
  cancel_requested: boolean;
  result: JsonValue | null;
  error: TaskError | null;
}

/** A task to insert (the manager has filled every default). */
export interface NewTaskRow {
  id: string;
  type: string;
  title: string;
  instructions: string;
  params: Record<string, unknown>;
  priority: number;
  max_attempts: number;
  timeout_ms: number;
  idempotency_key: string | null;
  drive_id: string | null;
  document_id: string | null;
  source: TaskSource | null;
  /** Milliseconds of waiting worth one priority point. */
  aging_ms: number;
  /** It has dependencies: it goes in waiting for them. */
  waiting: boolean;
  /** Not before (the request's runAt); null: at once. */
  run_at: string | null;
}

export interface ClaimLimits {
  workerId: string;
  /** How many tasks to claim at most (free slots of the worker). */
  count: number;
  leaseMs: number;
  maxPerDocument: number;
  maxPerDrive: number;
  /** Free local slots per task type with its own cap (e.g. claude-code); absent = no cap. */
  typeSlots: Record<string, number>;
  /** The task types this worker has executors for: it claims no others. */
  types: string[];
}

export type FinalStatus = "completed" | "failed" | "cancelled";

export interface Finish {
  id: string;
  status: FinalStatus;
  result: JsonValue | null;
  error: TaskError | null;
  /** How long the run took; goes into the run's final status entry of the event log. */
  durationMs?: number;
}

export interface TaskEventRow {
  seq: number;
  task_id: string;
  kind: "status" | "output" | "progress";
  stream: string | null;
  data: string;
  created_at: Date;
}

export interface NewTaskEvent {
  task_id: string;
  kind: TaskEventRow["kind"];
  stream: string | null;
  data: string;
  bytes: number;
}

export interface ListFilter {
  status?: TaskStatus[];
  type?: string;
  documentId?: string;
  driveId?: string;
  /** Created at or after / before this instant. */
  createdAfter?: Date;
  createdBefore?: Date;
  /** Title contains this text, ignoring case. */
  titleContains?: string;
  /** Carries this tag. */
  tag?: string;
  /** Asked for by this person, as the agent proved it (source.by). */
  askedBy?: string;
  limit: number;
  offset: number;
}
