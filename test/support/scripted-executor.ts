/**
 * A test task type whose behaviour is scripted per attempt: "ok", "retry", "retry-after:MS",
 * "fatal", "hold:MS". Every run is logged (task, attempt, start, end) so tests can see what ran,
 * how often and how many at once.
 */
import { z } from "zod";
import { fatal, retryable, type TaskExecutor } from "../../src/tasks/executors/executor.js";
import type { TaskManager } from "../../src/tasks/task-manager.js";
import { TaskRequestBaseSchema, type JsonObject, type Task } from "../../src/tasks/types.js";
import { waitFor } from "./process.js";

export type RunLog = { id: string; attempt: number; at: number; end?: number }[];

const ScriptedRequest = TaskRequestBaseSchema.extend({ type: z.literal("scripted"), script: z.array(z.string()).default(["ok"]) });

export function scriptedExecutor(log: RunLog): TaskExecutor<Task & { script: string[] }> {
  return {
    type: "scripted",
    requestSchema: ScriptedRequest,
    async execute(task, ctx): Promise<JsonObject> {
      const entry: RunLog[number] = { id: task.id, attempt: ctx.attempt, at: Date.now() };
      log.push(entry);
      const step = task.script[Math.min(ctx.attempt, task.script.length) - 1] ?? "ok";
      try {
        if (step.startsWith("hold:")) {
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(resolve, Number(step.slice(5)));
            ctx.signal.addEventListener("abort", () => { clearTimeout(timer); reject(new Error("aborted")); });
          });
          return { held: true };
        }
        if (step === "retry") throw retryable("flaky", `attempt ${ctx.attempt} failed`);
        if (step.startsWith("retry-after:")) throw retryable("rate_limited", "slow down", { retryAfterMs: Number(step.slice(12)) });
        if (step === "fatal") throw fatal("bad_input", "this cannot work");
        return { attempt: ctx.attempt };
      } finally {
        entry.end = Date.now();
      }
    },
  };
}

export function finalStatus(manager: TaskManager, id: string) {
  return waitFor(async () => {
    const task = await manager.getTask(id);
    return task && ["completed", "failed", "cancelled"].includes(task.status) ? task : undefined;
  }, 20_000, `task ${id} to finish`);
}
