import { describe, expect, it } from "vitest";
import { z } from "zod";
import { silentLogger } from "../src/logger.js";
import { ExecutorRegistry } from "../src/tasks/executors/registry.js";
import { CliExecutor } from "../src/tasks/executors/cli-executor.js";
import { fatal, type TaskExecutor } from "../src/tasks/executors/executor.js";
import { executeAttempt } from "../src/tasks/execute-attempt.js";
import { newTask } from "../src/tasks/new-task.js";
import { parseTaskRequest } from "../src/tasks/task-request.js";
import { CLITaskSchema, TaskRequestBaseSchema, type Task } from "../src/tasks/types.js";

const registry = new ExecutorRegistry().register(new CliExecutor({ allowedRoots: [process.cwd()], killGraceMs: 100, captureBytes: 1024 }));

describe("task model", () => {
  it("reports every problem of a bad task at once, each naming its field and value", () => {
    const parsed = parseTaskRequest({ type: "cli", title: "", args: ["ok", 5], priority: 500, environment: { "BAD-NAME": "x", LD_PRELOAD: "/x.so" } }, registry);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    const fields = parsed.errors.map((e) => e.field).sort();
    expect(fields).toEqual(["args.1", "command", "environment.BAD-NAME", "environment.LD_PRELOAD", "priority", "title"]);
    const priority = parsed.errors.find((e) => e.field === "priority");
    expect(priority?.value).toBe("500");
    expect(priority?.message).toMatch(/100/);
  });

  it("names the known types when the type is unknown, and still checks the base fields", () => {
    const parsed = parseTaskRequest({ type: "rocket", title: 7 }, registry);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors[0]).toMatchObject({ field: "type", value: '"rocket"' });
    expect(parsed.errors[0]?.message).toContain("cli");
    expect(parsed.errors.some((e) => e.field === "title")).toBe(true);
  });

  it("fills defaults and produces a task the CLITask schema accepts", () => {
    const parsed = parseTaskRequest({ type: "cli", title: "hello", command: "echo", source: { documentId: "doc-1", driveId: "drive-1", operationId: "op-1" } }, registry);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const task = newTask(parsed.value, { defaultPriority: 50 }, { maxAttempts: 3, timeoutMs: 1000 });
    expect(task).toMatchObject({ status: "pending", attempts: 0, maxAttempts: 3, priority: 50, args: [], environment: {}, instructions: "" });
    expect(task.source).toMatchObject({ documentId: "doc-1", chainDepth: 0 });
    expect(CLITaskSchema.safeParse(task).success).toBe(true);
  });
});

describe("executor plug-in point", () => {
  it("a new task type needs one registered executor and nothing else", async () => {
    const EchoRequest = TaskRequestBaseSchema.extend({ type: z.literal("reverse"), text: z.string().min(1) });
    type ReverseTask = Task & { text: string };
    const reverse: TaskExecutor<ReverseTask> = {
      type: "reverse",
      requestSchema: EchoRequest,
      defaultPriority: 70,
      execute: (task, ctx) => {
        ctx.output({ stream: "stdout", data: "reversing\n" });
        ctx.progress({ kind: "step", message: "half way", percent: 50 });
        if (task.text === "boom") throw fatal("bad_text", "cannot reverse boom");
        return Promise.resolve({ reversed: [...task.text].reverse().join("") });
      },
    };
    const custom = new ExecutorRegistry().register(reverse);
    expect(custom.types()).toEqual(["reverse"]);
    const bad = parseTaskRequest({ type: "reverse", title: "r", text: "" }, custom);
    expect(bad.ok === false && bad.errors[0]?.field).toBe("text");
    const parsed = parseTaskRequest({ type: "reverse", title: "r", text: "abc" }, custom);
    if (!parsed.ok) throw new Error("should parse");
    const executor = custom.get("reverse")!;
    const task = newTask(parsed.value, executor, { maxAttempts: 1, timeoutMs: 1000 });
    expect(task.priority).toBe(70);
    const progress: string[] = [];
    const outcome = await executeAttempt(executor, task, { timeoutMs: 1000, attempt: 1, logger: silentLogger(), onProgress: (p) => progress.push(p.message) });
    expect(outcome).toMatchObject({ status: "completed", result: { reversed: "cba" } });
    expect(progress).toEqual(["half way"]);
    const failed = await executeAttempt(executor, { ...task, text: "boom" }, { timeoutMs: 1000, attempt: 1, logger: silentLogger() });
    expect(failed).toMatchObject({ status: "failed", error: { kind: "fatal", code: "bad_text" } });
    expect(() => custom.register(reverse)).toThrow(/already registered/);
    expect(() => custom.register({ ...reverse, type: "pipeline" })).toThrow("task type 'pipeline' is reserved: a task document of that type asks for a pipeline");
  });

  it("an executor that ignores its signal is still timed out with a retryable error", async () => {
    const stuck: TaskExecutor = {
      type: "stuck",
      requestSchema: TaskRequestBaseSchema,
      execute: (_task, ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener("abort", () => setTimeout(() => reject(new Error("gave up")), 10))),
    };
    const task = newTask({ type: "stuck", title: "s", instructions: "" }, stuck, { maxAttempts: 1, timeoutMs: 100 });
    const outcome = await executeAttempt(stuck, task, { timeoutMs: 100, attempt: 1, logger: silentLogger() });
    expect(outcome).toMatchObject({ status: "failed", error: { kind: "retryable", code: "timeout" } });
  });
});
