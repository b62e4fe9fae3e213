/**
 * Exit codes of `ph-tasks`, following the conventions shells already know (timeout's 124,
 * 126/127 for cannot-execute/not-found, 128+n for signals).
 */
import type { AttemptOutcome } from "../tasks/execute-attempt.js";

export const EXIT = {
  ok: 0,
  taskFailed: 1,
  usage: 2,
  unreachable: 3,
  notFound: 4,
  timeout: 124,
  cannotExecute: 126,
  commandNotFound: 127,
  cancelled: 130,
} as const;

/** The exit status of `ph-tasks run`: the command's own exit code when it has one. */
export function exitCodeOfOutcome(outcome: AttemptOutcome): number {
  if (outcome.status === "cancelled") return EXIT.cancelled;
  const result = outcome.result;
  const exitCode = result && typeof result === "object" && !Array.isArray(result) ? result.exitCode : undefined;
  if (typeof exitCode === "number") return exitCode;
  if (outcome.status === "completed") return EXIT.ok;
  switch (outcome.error.code) {
    case "timeout":
      return EXIT.timeout;
    case "command_not_found":
      return EXIT.commandNotFound;
    case "permission_denied":
      return EXIT.cannotExecute;
    default:
      return EXIT.taskFailed;
  }
}
