/**
 * The global state of a `powerhouse/task` document: what a person asked for, and what the agent
 * reports back (status, attempts, run history, a bounded tail of live output, result, error).
 */
import { z } from "zod";

export const TASK_DOCUMENT_TYPE = "powerhouse/task";

/** Bounds that keep a task document small: it is synced to every client of the drive. */
export const LIMITS = { outputTailChars: 16 * 1024, runs: 50, notices: 20, resultChars: 64 * 1024 } as const;

export const DOCUMENT_STATUSES = ["idle", "requested", "queued", "running", "completed", "failed", "cancelled"] as const;
export type DocumentStatus = (typeof DOCUMENT_STATUSES)[number];

const Json = z.json();

export const RunSchema = z.object({
  taskId: z.string(),
  attempt: z.number(),
  status: z.string(),
  workerId: z.string().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  exitCode: z.number().nullable(),
  costUsd: z.number().nullable(),
  durationMs: z.number().nullable(),
  error: z.string().nullable(),
});
export type Run = z.infer<typeof RunSchema>;

export const NoticeSchema = z.object({ at: z.string(), level: z.enum(["info", "warning", "error"]), message: z.string() });
export type Notice = z.infer<typeof NoticeSchema>;

export const TaskDocumentStateSchema = z.object({
  title: z.string(),
  instructions: z.string(),
  taskType: z.string(),
  params: z.record(z.string(), Json),
  priority: z.number().nullable(),
  maxAttempts: z.number().nullable(),
  timeoutMs: z.number().nullable(),
  status: z.enum(DOCUMENT_STATUSES),
  attempts: z.number(),
  currentTaskId: z.string().nullable(),
  lastRequestId: z.string().nullable(),
  requestedAt: z.string().nullable(),
  cancelRequested: z.boolean(),
  runs: z.array(RunSchema),
  outputTail: z.string(),
  outputBytes: z.number(),
  result: Json.nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  notices: z.array(NoticeSchema),
});
/**
 * Written out rather than inferred: the inferred type's recursive JSON makes immer's Draft<>
 * (which the reactor wraps the state in) too deep for the compiler. The schema checks the shape.
 */
export interface TaskDocumentState {
  title: string;
  instructions: string;
  taskType: string;
  params: Record<string, unknown>;
  priority: number | null;
  maxAttempts: number | null;
  timeoutMs: number | null;
  status: DocumentStatus;
  attempts: number;
  currentTaskId: string | null;
  lastRequestId: string | null;
  requestedAt: string | null;
  cancelRequested: boolean;
  runs: Run[];
  outputTail: string;
  outputBytes: number;
  result: unknown;
  error: { code: string; message: string } | null;
  notices: Notice[];
}

export function initialTaskDocumentState(): TaskDocumentState {
  return {
    title: "",
    instructions: "",
    taskType: "cli",
    params: {},
    priority: null,
    maxAttempts: null,
    timeoutMs: null,
    status: "idle",
    attempts: 0,
    currentTaskId: null,
    lastRequestId: null,
    requestedAt: null,
    cancelRequested: false,
    runs: [],
    outputTail: "",
    outputBytes: 0,
    result: null,
    error: null,
    notices: [],
  };
}

/** True while a run is asked for or under way: the spec cannot change then. */
export function isActive(status: DocumentStatus): boolean {
  return status === "requested" || status === "queued" || status === "running";
}
