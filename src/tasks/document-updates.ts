/**
 * What a task's state means for its task document: the final MARK_* operation it calls for, and the
 * output to show when the live output never reached the document. Pure functions of the document's
 * state and the task, used by the event handler's live write-back and its catch-up.
 */
import type { Action } from "document-model";
import { actions } from "../reactor/task-document/actions.js";
import type { TaskDocumentState } from "../reactor/task-document/state.js";
import type { JsonValue, Task } from "./types.js";

const now = () => new Date().toISOString();

export function isTerminal(state: TaskDocumentState): boolean {
  return state.status === "completed" || state.status === "failed" || state.status === "cancelled";
}

export function outputOfResult(result: JsonValue | null): string {
  if (!result || typeof result !== "object" || Array.isArray(result)) return "";
  const text = (key: string) => (typeof result[key] === "string" ? (result[key]) : "");
  return text("stdout") + text("stderr") || text("text");
}

function numberIn(result: JsonValue | null, key: string): number | null {
  if (result && typeof result === "object" && !Array.isArray(result)) {
    const value = result[key];
    if (typeof value === "number") return value;
  }
  return null;
}

/** The MARK_* a finished task calls for — nothing when the document already shows it. */
export function finalAction(state: TaskDocumentState, task: Task, result: JsonValue | null, durationMs: number | undefined): Action | Action[] | undefined {
  if (state.currentTaskId !== task.id || isTerminal(state)) return undefined;
  const finishedAt = now();
  const duration = durationMs ?? numberIn(result, "durationMs");
  if (task.status === "completed") {
    return actions.markCompleted({ taskId: task.id, result: result ?? null, exitCode: numberIn(result, "exitCode"), costUsd: numberIn(result, "totalCostUsd"), durationMs: duration, finishedAt });
  }
  if (task.status === "failed") {
    const error = task.error ?? { code: "failed", message: "failed" };
    return actions.markFailed({ taskId: task.id, error: { code: error.code, message: error.message }, ...(result !== null ? { result } : {}), exitCode: numberIn(result, "exitCode"), durationMs: duration, finishedAt });
  }
  if (task.status === "cancelled") return actions.markCancelled({ taskId: task.id, reason: task.error?.message ?? "cancelled", finishedAt });
  return undefined;
}
