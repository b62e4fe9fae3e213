/**
 * The task model. Every shape is a zod schema; the TypeScript types are inferred from them, so the
 * run-time check and the compile-time type can never drift apart.
 *
 * A task is a base (what the manager needs to schedule it) plus the fields of its type (what the
 * executor needs to run it). The base is closed; the type-specific part is declared by each
 * executor's schema, so a new task type needs no change here (see executors/registry.ts).
 */
import { z } from "zod";

export const TASK_STATUSES = ["pending", "running", "completed", "failed", "cancelled"] as const;
export const TaskStatusSchema = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof TaskStatusSchema>;

export const TERMINAL_STATUSES: readonly TaskStatus[] = ["completed", "failed", "cancelled"];
export function isTerminalStatus(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** Built-in task types. Custom types registered at run time are plain strings. */
export const BUILTIN_TASK_TYPES = ["cli", "claude-code", "claude-agent"] as const;
export type BuiltinTaskType = (typeof BUILTIN_TASK_TYPES)[number];

/** A task type name: lower-case words joined by dashes, as used in URLs, documents and metrics. */
export const TaskTypeNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,39}$/, "must be lower-case letters, digits and dashes (e.g. 'cli')");

/** Which drive, document and operation asked for a task. Every field optional: the CLI asks too. */
export const TaskSourceSchema = z.strictObject({
  driveId: z.string().min(1).max(200).optional(),
  documentId: z.string().min(1).max(200).optional(),
  documentType: z.string().min(1).max(200).optional(),
  operationId: z.string().min(1).max(200).optional(),
  operationType: z.string().min(1).max(200).optional(),
  /** How many task results led to this task; capped by TASK_MAX_CHAIN_DEPTH (loop protection). */
  chainDepth: z.int().min(0).max(1000).default(0),
  /** Who asked: "document", "api", "cli", "rule:<name>", ... */
  origin: z.string().min(1).max(100).optional(),
  /**
   * The person who asked, as proven: a named API token's name (API_USERS), a named app key's
   * (TASK_AUTHORIZED_WRITERS) for a document's request. Set by the agent only (see attributed()).
   */
  by: z.string().min(1).max(200).optional(),
});
export type TaskSource = z.infer<typeof TaskSourceSchema>;

/** Failure classification shared by executors, the manager and the documents. */
export const FailureKindSchema = z.enum(["retryable", "fatal"]);
export type FailureKind = z.infer<typeof FailureKindSchema>;

export const TaskErrorSchema = z.object({
  kind: FailureKindSchema,
  /** Stable machine-readable code, e.g. "command_not_found", "timeout", "rate_limited". */
  code: z.string(),
  message: z.string(),
  retryAfterMs: z.number().nonnegative().optional(),
});
export type TaskError = z.infer<typeof TaskErrorSchema>;

export const JsonValueSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(JsonValueSchema), z.record(z.string(), JsonValueSchema)]),
);
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export const MAX_PRIORITY = 100;

/**
 * What a submitter may set on any task. Defaults are filled here (priority, attempts) or by the
 * manager from configuration (timeoutMs, maxAttempts when absent).
 */
export const TaskRequestBaseSchema = z.object({
  type: TaskTypeNameSchema,
  title: z.string().trim().min(1, "must not be empty").max(200),
  instructions: z.string().max(100_000).default(""),
  /** 0 (lowest) … 100 (highest); when absent the type's default applies (see priority.ts). */
  priority: z.int().min(0).max(MAX_PRIORITY).optional(),
  maxAttempts: z.int().min(1).max(100).optional(),
  timeoutMs: z.int().min(100).max(7 * 24 * 3600 * 1000).optional(),
  idempotencyKey: z.string().min(1).max(300).optional(),
  source: TaskSourceSchema.optional(),
  /**
   * Ids of tasks that must complete before this one runs (at most 20, existing ones). It waits in
   * the queue until the last of them completes. A dependency that fails for good or is cancelled:
   * see onDependencyFailure.
   */
  dependsOn: z
    .array(z.string().min(1).max(100))
    .min(1)
    .max(20)
    .refine((ids) => new Set(ids).size === ids.length, "must not name a task twice")
    .optional(),
  /**
   * When a dependency fails for good (no attempts left) or is cancelled (or is gone): "wait" (the
   * default) keeps this task waiting until that one is retried and completes, or this one is
   * cancelled; "cancel" cancels it at once, and so on down a chain of such tasks. Only with dependsOn.
   */
  onDependencyFailure: z.enum(["wait", "cancel"], { error: 'must be "wait" or "cancel"' }).optional(),
  /**
   * Not before this time (ISO 8601 with a zone, within a year): it waits in the queue until then —
   * and, with dependsOn, until they have completed too. A time past runs it at once.
   */
  runAt: z.iso
    .datetime({ offset: true, error: "must be an ISO 8601 date and time with a zone, e.g. 2026-12-04T03:00:00Z" })
    // (Not a time at all is the format's error alone.)
    .refine((at) => !(Date.parse(at) - Date.now() > 366 * 24 * 3600 * 1000), "must be within a year from now")
    .optional(),
  /**
   * Must start by then (ISO 8601 with a zone; kept as UTC): a task not started by then is cancelled
   * with the code "expired" instead — a notification that is worthless late, a report due before a
   * meeting. Stored in UTC, so that its text sorts as its time (the sweep's index).
   */
  startBy: z.iso
    .datetime({ offset: true, error: "must be an ISO 8601 date and time with a zone, e.g. 2026-12-04T03:00:00Z" })
    .transform((at) => new Date(at).toISOString())
    .optional(),
  /** Labels to find the task by (list, retry, cancel by tag), e.g. "release-42", "team:docs". */
  tags: z
    .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/, "must be 1-64 letters, digits and . _ : / - (starting with a letter or digit)"))
    .max(20)
    .refine((tags) => new Set(tags).size === tags.length, "must not name a tag twice")
    .optional(),
});

/** The scheduling state a stored task carries on top of its request. */
export const TaskStateSchema = z.object({
  id: z.string().min(1),
  status: TaskStatusSchema,
  priority: z.int().min(0).max(MAX_PRIORITY),
  attempts: z.int().min(0),
  maxAttempts: z.int().min(1),
  timeoutMs: z.int().min(1),
  createdAt: z.date(),
  updatedAt: z.date(),
  result: JsonValueSchema.optional(),
  error: TaskErrorSchema.optional(),
});

/** BaseTask as the seed names it: everything but the type-specific fields. */
export const BaseTaskSchema = TaskRequestBaseSchema.extend(TaskStateSchema.shape).extend({
  instructions: z.string(),
  source: TaskSourceSchema.optional(),
});
export type BaseTask = z.infer<typeof BaseTaskSchema>;

/** Names allowed as environment variables, and those a task may never set (loader injection). */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const FORBIDDEN_ENV = /^(LD_|DYLD_)|^NODE_OPTIONS$/;
export const EnvironmentSchema = z
  .record(
    z
      .string()
      .regex(ENV_NAME, "must be a valid variable name (letters, digits, underscore)")
      .refine((name) => !FORBIDDEN_ENV.test(name), "LD_*, DYLD_* and NODE_OPTIONS cannot be set by a task"),
    z.string().max(32_768),
  )
  .refine((env) => Object.keys(env).length <= 100, "at most 100 variables");

/**
 * Resource limits of a run: of each process the run starts (rlimits, inherited by its children, each
 * child its own — see run-limits.ts), and of the run's processes together (processes, totalMemoryMb:
 * counted in its cgroup — see run-totals.ts). A task may only ask for less than the agent's
 * TASK_LIMIT_* allow.
 */
export const RunLimitsSchema = z.strictObject({
  /** CPU time of each process: SIGXCPU at this many seconds, SIGKILL two seconds later. */
  cpuSeconds: z.int().min(1).max(7 * 24 * 3600).optional(),
  /** Heap and other private writable memory of each process (RLIMIT_DATA); allocation fails beyond it. */
  memoryMb: z.int().min(64, "must be at least 64 (below it a program may not even start)").max(1024 * 1024).optional(),
  /** Largest file a process may write: SIGXFSZ beyond it. */
  fileSizeMb: z.int().min(1).max(16 * 1024 * 1024).optional(),
  /** Files, sockets and pipes each process may hold open. */
  openFiles: z.int().min(32, "must be at least 32 (below it a program may not even start)").max(1024 * 1024).optional(),
  /** Processes and threads of the whole run at once (its cgroup's pids.max): a fork beyond it fails. */
  processes: z.int().min(8, "must be at least 8 (a shell and what it starts need a few)").max(4 * 1024 * 1024).optional(),
  /** Memory of all the run's processes together (its cgroup's memory limit): the kernel ends one of them beyond it. */
  totalMemoryMb: z.int().min(64, "must be at least 64 (below it a program may not even start)").max(1024 * 1024 * 1024).optional(),
}, { error: (issue) => (issue.code === "unrecognized_keys" ? `has no limit ${issue.keys.map((k) => `"${k}"`).join(", ")}; limits: cpuSeconds, memoryMb, fileSizeMb, openFiles, processes, totalMemoryMb` : undefined) });
export type RunLimits = z.infer<typeof RunLimitsSchema>;

/** Fields specific to a CLI task (seed §1 CLITask, plus stdin input: the seed's "input prompts"). */
export const CliTaskFieldsSchema = z.object({
  type: z.literal("cli"),
  command: z.string().min(1, "must name a program").max(4096),
  args: z.array(z.string().max(131_072)).max(1000).default([]),
  workingDirectory: z.string().min(1).max(4096).optional(),
  environment: EnvironmentSchema.default({}),
  /** Written to the process's stdin, which is then closed. */
  input: z.string().max(10 * 1024 * 1024).optional(),
  /** Exit codes that mean "try again later" (e.g. 75 = EX_TEMPFAIL). Other non-zero codes are final. */
  retryExitCodes: z.array(z.int().min(1).max(255)).max(50).default([]),
  limits: RunLimitsSchema.optional(),
  /** Secrets of the agent's TASK_SECRETS, by name: each goes in its variable, for the commands it is for. */
  secrets: z
    .array(z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, "must be a secret's name (letters, digits, '_', '.', '-')"))
    .min(1)
    .max(20)
    .refine((names) => new Set(names).size === names.length, "must not name a secret twice")
    .optional(),
});

const PERMISSION_MODES = ["default", "acceptEdits", "bypassPermissions", "plan", "dontAsk"] as const;

/** A model name goes to claude as an option's value: never something that reads as an option itself. */
const ModelSchema = z.string().min(1).max(100).regex(/^[^-\s]\S*$/, "must be a model name (no spaces, not starting with '-')");

/** What one Claude run may spend, in US dollars (claude stops there: max_budget). */
const MaxBudgetUsdSchema = z.number().positive("must be more than 0").max(10_000, "must be at most 10000");

/**
 * A follow-up: the id of an earlier task of the same type whose conversation this run continues —
 * its last run's, with this task's prompt as the next turn (follow-ups.ts).
 */
const ContinueFromSchema = z.string().min(1).max(100);

/** Fields specific to a Claude Code task (seed §1 ClaudeCodeTask). */
export const ClaudeCodeTaskFieldsSchema = z.object({
  type: z.literal("claude-code"),
  prompt: z.string().min(1, "must not be empty").max(500_000),
  projectPath: z.string().min(1).max(4096).optional(),
  additionalFlags: z.array(z.string().max(1000)).max(50).default([]),
  model: ModelSchema.optional(),
  maxTurns: z.int().min(1).max(200).optional(),
  maxBudgetUsd: MaxBudgetUsdSchema.optional(),
  continueFrom: ContinueFromSchema.optional(),
  allowedTools: z.array(z.string().min(1).max(200)).max(100).optional(),
  permissionMode: z.enum(PERMISSION_MODES).optional(),
  limits: RunLimitsSchema.optional(),
});

/** Fields specific to a Claude agent task (seed §1 ClaudeAgentTask). */
export const ClaudeAgentTaskFieldsSchema = z.object({
  type: z.literal("claude-agent"),
  prompt: z.string().min(1, "must not be empty").max(500_000),
  mcpConfig: z
    .object({
      /** Absent: the agent's own reactor-mcp endpoint. */
      serverUrl: z.url().optional(),
      /** Never stored in documents: resolved from the agent's configuration by name. */
      credentialsRef: z.string().max(200).optional(),
    })
    .default({}),
  model: ModelSchema.optional(),
  maxTurns: z.int().min(1).max(200).optional(),
  maxBudgetUsd: MaxBudgetUsdSchema.optional(),
  continueFrom: ContinueFromSchema.optional(),
  limits: RunLimitsSchema.optional(),
});

export const CliTaskRequestSchema = TaskRequestBaseSchema.extend(CliTaskFieldsSchema.shape);
export const ClaudeCodeTaskRequestSchema = TaskRequestBaseSchema.extend(ClaudeCodeTaskFieldsSchema.shape);
export const ClaudeAgentTaskRequestSchema = TaskRequestBaseSchema.extend(ClaudeAgentTaskFieldsSchema.shape);

export const CLITaskSchema = BaseTaskSchema.extend(CliTaskFieldsSchema.shape);
export const ClaudeCodeTaskSchema = BaseTaskSchema.extend(ClaudeCodeTaskFieldsSchema.shape);
export const ClaudeAgentTaskSchema = BaseTaskSchema.extend(ClaudeAgentTaskFieldsSchema.shape);

export type CLITask = z.infer<typeof CLITaskSchema>;
export type ClaudeCodeTask = z.infer<typeof ClaudeCodeTaskSchema>;
export type ClaudeAgentTask = z.infer<typeof ClaudeAgentTaskSchema>;

/**
 * A task of any type: the base plus its type's fields, which only that type's executor knows.
 * The manager and the store treat the extra fields as opaque JSON ("params").
 */
export type Task = BaseTask & { [field: string]: unknown };

/**
 * The names of the base fields that have columns of their own; everything else on a task (its
 * type's fields, and dependsOn, whose links live in ph_task_dependencies) is stored as JSON.
 */
// dependsOn, onDependencyFailure, runAt and tags are kept with the type's fields (params, JSON): the
// list filters tags there, the dependency-failure sweep reads onDependencyFailure there, and the
// release of a dependent reads runAt there (migration 020).
const PARAMS_BASE_FIELDS = new Set(["dependsOn", "onDependencyFailure", "runAt", "startBy", "tags"]);
export const BASE_TASK_FIELDS: ReadonlySet<string> = new Set(Object.keys(BaseTaskSchema.shape).filter((key) => !PARAMS_BASE_FIELDS.has(key)));

/** Splits a task into its base and the type-specific fields (stored as JSON). */
export function splitTaskParams(task: Record<string, unknown>): { [field: string]: unknown } {
  const params: { [field: string]: unknown } = {};
  for (const [key, value] of Object.entries(task)) {
    if (!BASE_TASK_FIELDS.has(key)) params[key] = value;
  }
  return params;
}

/** A chunk of output as it arrives from a running task. */
export const OutputStreamSchema = z.enum(["stdout", "stderr", "system"]);
export type OutputStream = z.infer<typeof OutputStreamSchema>;
export interface OutputChunk {
  stream: OutputStream;
  data: string;
}

/** Something an executor reports while running: a step, a tool use, a percentage. */
export interface ProgressEvent {
  kind: string;
  message: string;
  percent?: number;
  data?: JsonObject;
}
