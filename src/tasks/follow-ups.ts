/**
 * Follow-ups: a Claude task that continues an earlier task's conversation (`continueFrom`), with
 * its own prompt as the next turn. Checked when asked for, all or nothing like admission, so that
 * a follow-up that could never run is refused naming the field:
 * - the task it names exists and is of the same type (claude-code continues claude-code);
 * - a follow-up a task document asks for continues only a task from the same drive: a
 *   conversation holds what claude read of a project and of documents, and whoever writes one
 *   drive must not read another's through a follow-up (the API's callers, who may read every
 *   task, may continue any — their tasks' documents are spread over the agent's local drives);
 * - that task has ended with its conversation kept, or is one this task waits for (dependsOn) —
 *   then the run finds it, or fails saying it was not kept.
 * A claude-code follow-up that names no projectPath works in the earlier task's.
 */
import type { ConversationStore, FollowUpOriginRow } from "../store/conversation-store.js";
import { describeValue, ValidationError, type FieldError } from "../validation.js";
import { PREVIOUS_TASK, TASK_DOCUMENT_ORIGIN } from "./task-from-document.js";
import { isTerminalStatus, type Task } from "./types.js";

const continueFromOf = (task: Task): string | undefined => (typeof task.continueFrom === "string" ? task.continueFrom : undefined);

/**
 * The tasks as they will be stored (a follow-up's projectPath filled in), or a ValidationError
 * (named by `label(index)`) for the first follow-up that cannot be — unless its idempotency key is
 * stored already (`stored`): a repeated request gets the task it made.
 */
export async function resolveFollowUps(conversations: ConversationStore, tasks: readonly Task[], label: (index: number) => string, stored: (key: string) => Promise<unknown>): Promise<Task[]> {
  const named = [...new Set(tasks.map(continueFromOf).filter((id): id is string => id !== undefined))];
  if (named.length === 0) return [...tasks];
  const origins = new Map((await conversations.origins(named)).map((row) => [row.id, row]));
  const resolved: Task[] = [];
  for (const [index, task] of tasks.entries()) {
    const id = continueFromOf(task);
    if (id === undefined) {
      resolved.push(task);
      continue;
    }
    const origin = origins.get(id);
    // A task of the same batch (a pipeline's) is not stored yet: waiting for it, the run checks.
    const batched = origin === undefined && task.dependsOn?.includes(id) === true && tasks.some((other) => other.id === id);
    const problem = batched ? undefined : followUpProblem(task, id, origin);
    if (problem) {
      if (task.idempotencyKey && (await stored(task.idempotencyKey))) {
        resolved.push(task);
        continue;
      }
      throw new ValidationError(label(index), [problem]);
    }
    const inherit = task.type === "claude-code" && task.projectPath === undefined && origin?.project_path;
    resolved.push(inherit ? { ...task, projectPath: origin.project_path } : task);
  }
  return resolved;
}

function followUpProblem(task: Task, id: string, origin: FollowUpOriginRow | undefined): FieldError | undefined {
  const refuse = (message: string): FieldError => ({ field: "continueFrom", value: describeValue(id), message });
  if (!origin && id === PREVIOUS_TASK) return refuse(`'${PREVIOUS_TASK}' names the last task of the task document asking, and it has run none yet`);
  if (!origin) return refuse(`names no task: '${id}'`);
  if (origin.type !== task.type) return refuse(`names a ${origin.type} task: a ${task.type} task continues only a ${task.type} task's conversation`);
  const drive = task.source?.origin === TASK_DOCUMENT_ORIGIN ? task.source.driveId : undefined;
  if (drive !== undefined && origin.source?.driveId !== drive) {
    return refuse(`names a task that did not come from this drive ('${drive}'): a task asked for in a drive continues only conversations begun in that drive`);
  }
  if (!isTerminalStatus(origin.status)) {
    return task.dependsOn?.includes(id) ? undefined : refuse(`names a task still ${origin.status}: a conversation can be continued once its task has ended — or name it in dependsOn too, and this task waits for it`);
  }
  if (origin.conversation_bytes === null) return refuse("names a task with no conversation kept: its runs never started claude, or it was too long to keep");
  return undefined;
}
