/** A task type whose runs cost what the task says, and tell what they were allowed to spend (spend.test.ts, drive-budget.test.ts). */
import { z } from "zod";
import { fatal, type TaskExecutor } from "../../src/tasks/executors/executor.js";
import { TaskRequestBaseSchema, type JsonObject, type Task } from "../../src/tasks/types.js";

const CostlyRequest = TaskRequestBaseSchema.extend({ type: z.literal("costly"), costUsd: z.number(), fail: z.boolean().default(false) });

/** `caps`: each run's cap in dollars as it started (null: none); its result says it too, whose budget it was (`capFrom`: ExecutionContext.spendCapFrom) and the setting that gave it (`capSetting`). */
export function costlyExecutor(caps: (number | null)[]): TaskExecutor<Task & { costUsd: number; fail: boolean }> {
  return {
    type: "costly",
    requestSchema: CostlyRequest,
    reportsCost: true,
    execute(task, ctx): Promise<JsonObject> {
      caps.push(ctx.spendCapUsd ?? null);
      const result = { costUsd: task.costUsd, cap: ctx.spendCapUsd ?? null, capFrom: ctx.spendCapUsd === undefined ? null : (ctx.spendCapFrom ?? "daily"), capSetting: ctx.spendCapSetting ?? null };
      if (task.fail) return Promise.reject(fatal("broke", "failed after spending", { result }));
      return Promise.resolve(result);
    },
  };
}
