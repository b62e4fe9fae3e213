/**
 * The agent's configuration: every environment variable, parsed once with zod. A bad value stops
 * start-up with the variable's name, the value given and what is allowed (see loadConfig).
 * `.env.example` and the README table list the same variables; a test keeps them in step.
 */
import path from "node:path";
import { isIP } from "node:net";
import { z } from "zod";
import { publicKeyBytes } from "./security/authorized-writers.js";
import { ApiUsersSchema, NAME_RULE, PersonNameSchema, splitNamed } from "./security/identities.js";
import { TaskSecretsSchema } from "./security/task-secrets.js";
import { formatFieldErrors, jsonText, parseWith, type FieldError } from "./validation.js";

/** "300000", "300s", "5m", "2h", "7d" → milliseconds. */
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * (UNIT_MS[match[2] ?? "ms"] ?? 1));
}

const duration = (min: number, max: number) =>
  z
    .string()
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined || ms < min || ms > max) {
        ctx.addIssue({
          code: "custom",
          message: `must be a duration between ${min} ms and ${max} ms, as milliseconds or with a unit (e.g. 30s, 5m, 7d)`,
          input: text,
        });
        return z.NEVER;
      }
      return ms;
    });

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, `must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .pipe(z.int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

/** An amount in US dollars, more than 0 (a budget). */
const usd = (max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, `must be an amount in US dollars between 0 and ${max}, e.g. 5 or 0.50`)
    .transform(Number)
    .pipe(z.number().positive("must be more than 0").max(max, `must be at most ${max}`));

/**
 * `id=usd` pairs, comma-separated: a budget for each drive (TASK_DRIVE_BUDGETS_USD_PER_DAY) or
 * person (TASK_PERSON_BUDGETS_USD_PER_DAY) named. `what` names an id in the message, `valid` says
 * whether one is.
 */
const namedBudgets = (what: string, example: string, valid: (id: string) => boolean) =>
  z.string().transform((text, ctx) => {
    const budgets: Record<string, number> = {};
    for (const entry of text.split(",").map((s) => s.trim()).filter((s) => s.length > 0)) {
      const match = /^([^=\s]{1,200})\s*=\s*(\d+(?:\.\d+)?)$/.exec(entry);
      const usd = Number(match?.[2]);
      if (!match?.[1] || !valid(match[1]) || !(usd > 0) || usd > 1_000_000) {
        ctx.addIssue({ code: "custom", message: `each entry must be ${what}, '=' and an amount in US dollars between 0 and 1000000 (more than 0), e.g. ${example}; '${entry}' is not`, input: text });
        return z.NEVER;
      }
      budgets[match[1]] = usd;
    }
    return budgets;
  });
const driveBudgets = namedBudgets("a drive id", "team-drive=20,guests=0.50", () => true);
const personBudgets = namedBudgets(`a person's name (${NAME_RULE})`, "alice=5,bob=0.50", (name) => PersonNameSchema.safeParse(name).success);

const list = z
  .string()
  .transform((text) =>
    text
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  );

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(["true", "false", "1", "0", "yes", "no", "on", "off"], { error: "must be true or false" }))
  .transform((text) => ["true", "1", "yes", "on"].includes(text));

const url = (protocols: RegExp, allowed: string) =>
  z.string().trim().pipe(z.url({ protocol: protocols, error: `must be a URL (${allowed})` }));

/** Comma-separated http(s) URLs, each checked. */
const urlList = list.pipe(z.array(z.url({ protocol: /^https?$/, error: "each entry must be an http or https URL" })));

/** Allow-list entries: a program, then optionally the leading arguments a task's must have. */
const commandList = list.pipe(z.array(z.string().regex(/^\S+(\s+\S+)*$/, "each entry must be a program, optionally followed by arguments")));

/** Environment variable names, or prefixes ending in "*". */
const envNameList = list.pipe(z.array(z.string().regex(/^([A-Za-z_][A-Za-z0-9_]*\*?|\*)$/, "each entry must be a variable name (letters, digits, '_'), a prefix ending in * like MYAPP_*, or * for any")));

/** Host names as a browser puts them in Host: letters, digits, '.', '-' (no scheme, port or path). */
const hostNameList = list.pipe(
  z.array(z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, "each entry must be a host name (letters, digits, '.', '-'; no scheme, port or path), e.g. agent.local")),
);

/** A proxy address as Express's "trust proxy" takes it: loopback, linklocal, uniquelocal, an IP address, or one with a prefix length (10.0.0.0/8). */
function isProxyAddress(entry: string): boolean {
  if (["loopback", "linklocal", "uniquelocal"].includes(entry)) return true;
  const [address = "", prefix, ...rest] = entry.split("/");
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

const proxyList = list.pipe(z.array(z.string().refine(isProxyAddress, { error: (issue) => `each entry must be loopback, linklocal, uniquelocal, an IP address or a range like 10.0.0.0/8; '${String(issue.input)}' is not` })));

/** App public keys, each readable as a P-256 key (see security/authorized-writers.ts). */
const appKeyList = list.pipe(
  z.array(
    z.string().superRefine((entry, ctx) => {
      // `alice=did:key:…`: the key's holder, known by that name (an approval's approvers).
      const { name, value } = splitNamed(entry);
      if (name !== undefined && !PersonNameSchema.safeParse(name).success) ctx.addIssue({ code: "custom", message: `'${name}': a name must be ${NAME_RULE}` });
      try {
        publicKeyBytes(value);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: `'${entry}': ${(error as Error).message}` });
      }
    }),
  ),
);

/** A JSON object of name → secret string. The value is never echoed in an error (it holds secrets). */
const secretMap = jsonText('must be a JSON object of name → token, e.g. {"switchboard":"…"}').pipe(
    z.record(
      z.string().regex(/^[A-Za-z0-9_.-]{1,200}$/, "names must be letters, digits, '_', '.', '-'"),
      z.union([
        z.string().min(1, "tokens must not be empty"),
        z.strictObject({ token: z.string().min(1, "tokens must not be empty"), url: z.url({ protocol: /^https?$/, error: "url must be the http(s) URL of the one MCP server this token is for" }) }),
      ], { error: 'each value must be a token, or {"token":"…","url":"https://…"} to send it to that server only' }),
      { error: 'must be a JSON object of name → token (or {"token","url"}), e.g. {"switchboard":"…"}' },
    ),
  );

/** One entry per variable: its schema (string in, typed value out), default and description. */
interface VariableSpec {
  schema: z.ZodType;
  default?: string;
  doc: string;
  /** Holds secrets: a bad value is reported without the value. */
  secret?: boolean;
}

export const VARIABLES = {
  // The seed's variables.
  TASK_MAX_CONCURRENT: { schema: int(1, 1000), default: "5", doc: "Tasks one worker runs at once." },
  TASK_TIMEOUT_MS: { schema: duration(100, 7 * 86_400_000), default: "300000", doc: "Default time limit of a task run (a task's timeoutMs overrides it)." },
  TASK_RETRY_ATTEMPTS: { schema: int(1, 100), default: "3", doc: "Attempts of a task, counting the first (retryable failures only)." },
  CLAUDE_CLI_PATH: { schema: z.string().min(1), doc: "The `claude` binary. Default: the one the pinned Claude Agent SDK ships." },
  MCP_SERVER_URL: { schema: url(/^https?$/, "http or https"), default: "http://localhost:4001", doc: "MCP server of claude-agent tasks that name none when the agent's own /mcp is not available (an executor run outside `serve`)." },
  // Scheduling.
  TASK_PREFETCH: { schema: int(0, 1000), doc: "Tasks a worker claims beyond its free slots while its runs are short (under 50 ms on average), started as slots free; they count as running for the per-document and per-drive limits, and go back to the queue if not started within a second. 0 turns it off. Default: twice TASK_MAX_CONCURRENT." },
  TASK_MAX_PER_DOCUMENT: { schema: int(1, 1000), default: "1", doc: "Tasks of one document running at once, across all workers." },
  TASK_MAX_PER_DRIVE: { schema: int(1, 1000), default: "3", doc: "Tasks of one drive running at once, across all workers." },
  TASK_RETRY_BASE_MS: { schema: duration(1, 3_600_000), default: "1000", doc: "First retry delay; doubles each attempt (with jitter)." },
  TASK_RETRY_MAX_MS: { schema: duration(1, 86_400_000), default: "300000", doc: "Cap of the retry delay." },
  TASK_AGING_MS: { schema: duration(1, 86_400_000), default: "60000", doc: "Waiting this long raises a task's rank by one priority point." },
  TASK_LEASE_MS: { schema: duration(1000, 3_600_000), default: "30000", doc: "Lease of a running task; a worker that stops renewing it for this long is presumed dead." },
  TASK_KILL_GRACE_MS: { schema: duration(0, 600_000), default: "5000", doc: "Between SIGTERM and SIGKILL when a task's process group (and any process of the run that left it) is stopped." },
  TASK_CGROUP_ROOT: { schema: z.string().trim().refine((p) => p.startsWith("/"), "must be an absolute path to a cgroup v2 directory this agent may write, e.g. /sys/fs/cgroup/ph-tasks"), doc: "A cgroup v2 directory this agent owns (Linux): each run of a cli, claude-code or claude-agent task gets a cgroup inside it, and everything left in it when the run ends is killed — also a process that cleared its environment and left its group, which the other ways miss; the run's CPU time goes in its result; what a dead (SIGKILLed) agent's runs left going there is ended by the agents of the machine. The agent refuses to start when it cannot use it. Empty: off." },
  TASK_LIMIT_CPU_SECONDS: { schema: int(1, 7 * 24 * 3600), doc: "CPU time each process of a cli, claude-code or claude-agent run may use: SIGXCPU then, SIGKILL 2 s later; the task fails with cpu_limit. A task may ask for less (limits.cpuSeconds), never more. Needs prlimit (util-linux). Empty: none." },
  TASK_LIMIT_MEMORY_MB: { schema: int(64, 1024 * 1024), doc: "Memory (heap and private writable mappings, RLIMIT_DATA) each process of a run may have; allocations beyond it fail. Claude runs need 1024 or more. A task may ask for less (limits.memoryMb). Needs prlimit. Empty: none." },
  TASK_LIMIT_FILE_SIZE_MB: { schema: int(1, 16 * 1024 * 1024), doc: "Largest file a process of a run may write: SIGXFSZ beyond it; the task fails with file_size_limit. A task may ask for less (limits.fileSizeMb). Needs prlimit. Empty: none." },
  TASK_LIMIT_OPEN_FILES: { schema: int(32, 1024 * 1024), doc: "Files, sockets and pipes each process of a run may hold open. A task may ask for less (limits.openFiles). Needs prlimit. Empty: the agent's own limit." },
  TASK_LIMIT_PROCESSES: { schema: int(8, 4 * 1024 * 1024), doc: "Processes and threads a run may have at once, all of them together (its cgroup's pids.max): a fork beyond it fails, so a fork bomb stops there; a run that fails after one was refused fails with process_limit. Claude runs need 32 or more. A task may ask for less (limits.processes). Needs TASK_CGROUP_ROOT with the pids controller (cgroup v2, or a v1 pids hierarchy beside it). Empty: none." },
  TASK_LIMIT_TOTAL_MEMORY_MB: { schema: int(64, 1024 * 1024 * 1024), doc: "Memory all the processes of a run may use together (its cgroup's memory.max, no swap beyond it): the kernel ends one of them past it and the task fails with total_memory_limit. Claude runs need 512 or more. A task may ask for less (limits.totalMemoryMb). Needs TASK_CGROUP_ROOT with the memory controller (cgroup v2, or a v1 memory hierarchy beside it). Empty: none." },
  TASK_RUN_AS_USER: { schema: z.string().trim().regex(/^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}$/, "must be a user name or uid of this machine, e.g. ph-runner or 1001"), doc: "An unprivileged account (name or uid) every cli, claude-code and claude-agent run has instead of the agent's: it cannot read the agent's data directory or, through /proc, the environment the agent started with (its API key and tokens). Needs an agent running as root and setpriv (util-linux); the agent refuses to start otherwise. Claude runs' homes then go in a directory of their own under the system's temporary directory. Empty: runs have the agent's user." },
  TASK_SHUTDOWN_GRACE_MS: { schema: duration(0, 3_600_000), default: "10000", doc: "On SIGINT/SIGTERM, how long running tasks may finish before they are returned to the queue." },
  TASK_OUTPUT_CAP_BYTES: { schema: int(1024, 1024 * 1024 * 1024), default: "1048576", doc: "Output kept per task and stream (head and tail; the middle is dropped with a marker)." },
  TASK_RESULT_TTL: { schema: duration(1000, 3650 * 86_400_000), default: "7d", doc: "How long finished tasks and their output are kept." },
  TASK_AUDIT_RETENTION: { schema: duration(60_000, 3650 * 86_400_000), default: "90d", doc: "How long the audit log keeps its entries (who asked for which change, through the API, an inbound hook or a task document: GET /api/audit, ph-tasks audit)." },
  TASK_FAILED_RESULT_TTL: { schema: duration(1000, 3650 * 86_400_000), doc: "How long failed tasks and their output are kept, e.g. 30d to look into failures after the rest is gone. Default: TASK_RESULT_TTL." },
  TASK_ALLOWED_ROOTS: { schema: list, default: "", doc: "Comma-separated directories task working directories must lie in. Empty: the agent's working directory." },
  TASK_EXECUTOR_PLUGINS: { schema: list, default: "", doc: "Comma-separated modules that add task types: paths (relative to the working directory) or package names; each default-exports a function (context) => executor(s). Code run in the agent: only whoever configures the agent adds one. See README, Task types from plugins." },
  TASK_COMMAND_ALLOWLIST: { schema: commandList, default: "", doc: "Comma-separated programs CLI tasks may run: names, looked up on the agent's PATH (never the task's), or absolute paths; an entry may go on with the arguments a task's must start with (`git status`, `make test`), as a program listed bare runs whatever its arguments say (`git -c …`, `find -exec`). Empty: any program." },
  TASK_SECRETS: { schema: TaskSecretsSchema, default: "{}", secret: true, doc: "JSON object name → {\"value\":\"…\",\"variable\":\"DEPLOY_TOKEN\",\"commands\":[\"/usr/local/bin/deploy\"]}: secrets a CLI task may ask for by name (secrets: [\"deploy\"]); the value goes in that variable, only for those commands (allow-list entries, matched on the agent's PATH), and is redacted from every task's output. Never logged, stored or shown." },
  TASK_ENV_ALLOWLIST: { schema: envNameList, default: "", doc: "Comma-separated environment variables CLI tasks may set: names, prefixes ending in * (MYAPP_*), or * for any. Empty: any name when TASK_COMMAND_ALLOWLIST is empty, none when it is set (a variable can make an allowed program run another: GIT_CONFIG_*, BASH_ENV, PYTHONPATH)." },
  TASK_AUTHORIZED_WRITERS: { schema: appKeyList, default: "", doc: "Comma-separated app keys (did:key:z… as Connect shows them, or raw P-256 hex) whose signed operations may start and cancel tasks (run requests, trigger rules) and decide approvals; the signature is verified. A key may be named, alice=did:key:z…: its holder is then known as alice (an approval's approvers; a decision's by). Empty: anyone who can write a drive." },
  TASK_ALLOW_ANY_WRITER: { schema: bool, default: "false", doc: "true: with REMOTE_DRIVE_URL and no TASK_AUTHORIZED_WRITERS, accept that anyone who can write that drive starts tasks here. Without it such an agent refuses to start." },
  TASK_SCHEDULE_POLL_MS: { schema: duration(100, 3_600_000), default: "1000", doc: "How often a worker looks for due cron schedules (it also wakes at the soonest one it knows); a schedule another worker created is seen within this long." },
  TASK_WEBHOOK_POLL_MS: { schema: duration(100, 3_600_000), default: "1000", doc: "How often a worker looks for outbound webhook deliveries to send (it also looks at once when one of its own tasks ends, and when a retry is due); a delivery of another worker's task goes out within this long." },
  TASK_WEBHOOK_TIMEOUT_MS: { schema: duration(100, 600_000), default: "10000", doc: "An outbound webhook delivery not answered within this long failed (and is tried again)." },
  TASK_WEBHOOK_URL_ALLOWLIST: { schema: urlList, default: "", doc: "Comma-separated URL prefixes outbound webhooks may POST to, e.g. https://ci.example.com/ph/: the same scheme, host and port, and a path at or below the prefix's. A webhook elsewhere is refused when saved, and a delivery to a URL the list no longer admits is not sent (dead, with the reason). Empty: any http(s) URL." },
  TASK_WEBHOOK_MAX_ATTEMPTS: { schema: int(1, 100), default: "10", doc: "Attempts at an outbound webhook delivery before it is dead (kept and listed; `ph-tasks webhook redeliver` sends it again). Between attempts: TASK_RETRY_BASE_MS doubling, with jitter, capped at TASK_RETRY_MAX_MS, or the receiver's Retry-After." },
  WORKER_ID: { schema: z.string().min(1).max(100), doc: "Name of this worker in the task store. Default: host name and process id." },
  // Storage.
  TASK_DATA_DIR: { schema: z.string().min(1), default: "./.ph-tasks", doc: "Where the agent keeps its data (task store, documents, Claude homes)." },
  TASK_LOCAL_DRIVE_MAX_DOCUMENTS: { schema: int(10, 1_000_000), default: "1000", doc: "Task documents the agent puts in one local drive (API tasks, schedules, hooks, pipeline steps); the next opens a new one (\"tasks-2\"...), since adding a document costs time in proportion to those already in its drive." },
  DATABASE_URL: { schema: url(/^postgres(ql)?$/, "postgres://user@host:port/db"), doc: "PostgreSQL task store shared by many workers. Default: embedded PGlite in TASK_DATA_DIR." },
  TASK_STORE_ASYNC_COMMIT: { schema: bool, default: "false", doc: "Claims and finishes commit without waiting for the disk (enqueues always wait). Faster (≈1.3× on the benchmark); a crash of the database's machine may forget the last second of them: those tasks run again, and one forgotten claim may let a second worker start a task its first worker is still running, until that worker's next heartbeat (at most a second later) sees the lost lease and stops it." },
  TASK_STORE_VACUUM_EVERY: { schema: int(0, 10_000_000), default: "2000", doc: "VACUUM the task store after this many finished runs, PGlite and PostgreSQL (0: never; PostgreSQL's autovacuum then has to keep up)." },
  // The reactor loop.
  REMOTE_DRIVE_URL: { schema: url(/^https?$/, "http or https"), doc: "A Switchboard drive to connect and watch, besides the local drive." },
  TASK_RULES_FILE: { schema: z.string().min(1), default: "tasks.config.json", doc: "Trigger rules: which document operations start which tasks." },
  TASK_MAX_CHAIN_DEPTH: { schema: int(0, 100), default: "3", doc: "How many task results may trigger further tasks in a chain." },
  TASK_MAX_TASKS_PER_DOCUMENT_PER_MINUTE: { schema: int(1, 100_000), default: "30", doc: "Tasks one document may start per minute; the excess is dropped with a visible reason." },
  TASK_MAX_TASKS_PER_DRIVE_PER_MINUTE: { schema: int(1, 1_000_000), default: "300", doc: "Tasks the documents of one drive may start per minute, together (a writer could otherwise make a new document per request); the excess is dropped with a visible reason." },
  // Claude.
  ANTHROPIC_API_KEY: { schema: z.string().min(1), secret: true, doc: "API key given to Claude tasks only (never to CLI tasks)." },
  ANTHROPIC_BASE_URL: { schema: url(/^https?$/, "http or https"), doc: "Messages API endpoint for Claude tasks." },
  CLAUDE_MODEL: { schema: z.string().min(1).max(100), default: "claude-sonnet-4-5", doc: "Model of Claude tasks that name none." },
  CLAUDE_MAX_CONCURRENT: { schema: int(1, 100), default: "2", doc: "Claude tasks of each type (claude-code, claude-agent) running at once on one worker (start-up is CPU-bound)." },
  CLAUDE_REQUESTS_PER_MINUTE: { schema: int(1, 100_000), default: "30", doc: "Claude task starts per minute on one worker, for each Claude type." },
  CLAUDE_CODE_ALLOWED_TOOLS: { schema: list, default: "", doc: "Comma-separated tools (or rules, e.g. Bash(npm test:*)) a claude-code task may pre-approve in allowedTools, each compared whole. Empty: any when TASK_COMMAND_ALLOWLIST is empty, only the file tools (Read, Edit, Write, Glob, Grep…) when it is set." },
  CLAUDE_CODE_PROJECT_SETTINGS: { schema: bool, default: "false", doc: "true: claude loads the project's .claude/settings.json (hooks, env, apiKeyHelper — code that runs with the API key at hand, from whatever wrote the project). Default: only its per-run home's settings, the project's CLAUDE.md files put in the prompt." },
  CLAUDE_MAX_BUDGET_USD: { schema: usd(10_000), doc: "The most one Claude run (claude-code, claude-agent) may spend, in US dollars; claude stops there (max_budget). A task's maxBudgetUsd may lower it, not raise it. Unset: a task's maxBudgetUsd, else no cap per run." },
  TASK_BUDGET_USD_PER_DAY: { schema: usd(1_000_000), doc: "What runs that cost money (claude-code, claude-agent) may spend in the last 24 hours, in US dollars, across every worker of the store: once spent their tasks wait (saying until when), and each run starts capped at what is left. Unset: no budget (the spend is still recorded: ph-tasks spend). A daily budget set while the agents run (`ph-tasks budget daily set`) wins over it." },
  TASK_BUDGET_USD_PER_DRIVE_PER_DAY: { schema: usd(1_000_000), doc: "What the runs that cost money one drive's writers ask for (its task documents, its pipelines, the rules its documents set off) may spend in the last 24 hours, in US dollars, across every worker: once spent that drive's Claude tasks wait (saying until when) while other drives' and the owner's own (API, CLI, schedules, hooks) run; each run starts capped at what is left. Unset: no budget per drive." },
  TASK_BUDGET_WARN_AT_PERCENT: { schema: int(1, 99), default: "80", doc: "Share of a daily budget (TASK_BUDGET_USD_PER_DAY, and each drive's) whose crossing is told to the webhooks that ask, once per crossing across workers (budget.nearly_spent, budget.drive_nearly_spent), before the budget is spent and its tasks wait." },
  TASK_BUDGET_USD_PER_PERSON_PER_DAY: { schema: usd(1_000_000), doc: "What the runs that cost money one named person asks for (a named token of API_USERS, a named app key of TASK_AUTHORIZED_WRITERS: a task's source.by) may spend in the last 24 hours, in US dollars, across every worker: once spent that person's Claude tasks wait (saying until when) while everyone else's run; each run starts capped at what is left. Tasks no one named asked for are not held by it. Unset: no budget per person." },
  TASK_PERSON_BUDGETS_USD_PER_DAY: { schema: personBudgets, default: "", doc: "Budgets of named people, as name=usd pairs, comma-separated (e.g. alice=20,intern=0.50): each person named is held to their own instead of TASK_BUDGET_USD_PER_PERSON_PER_DAY (which may be unset: then only the named people are held). A budget set while the agents run (`ph-tasks budget person set`) wins over both." },
  TASK_DRIVE_BUDGETS_USD_PER_DAY: { schema: driveBudgets, default: "", doc: "Budgets of named drives, as drive-id=usd pairs, comma-separated (e.g. team-drive=20,guests=0.50): each drive named is held to its own instead of TASK_BUDGET_USD_PER_DRIVE_PER_DAY (which may be unset: then only the named drives are held). A budget set while the agents run (`ph-tasks budget set`) wins over both." },
  CLAUDE_AGENT_MAX_TURNS: { schema: int(1, 200), default: "20", doc: "Turn limit of claude-agent tasks that set no maxTurns." },
  CLAUDE_AGENT_MCP_URLS: { schema: urlList, default: "", doc: "Comma-separated MCP server URLs a claude-agent task may name in mcpConfig.serverUrl. Empty: only the agent's own /mcp." },
  CLAUDE_AGENT_MCP_CREDENTIALS: { schema: secretMap, default: "{}", secret: true, doc: "JSON object name → bearer token, or name → {\"token\":\"…\",\"url\":\"https://…\"} to send that token to that MCP server only (required when CLAUDE_AGENT_MCP_URLS lists several servers: a bare token would go to whichever one a task names); a claude-agent task names one with mcpConfig.credentialsRef. Never logged or shown." },
  // Serving.
  HOST: { schema: z.string().min(1), default: "127.0.0.1", doc: "Address of the HTTP server. A non-loopback address requires API_TOKEN." },
  PORT: { schema: int(0, 65535), default: "4000", doc: "Port of the HTTP server (API, dashboard, metrics, MCP)." },
  API_TOKEN: { schema: z.string().min(16, "must be at least 16 characters"), secret: true, doc: "Bearer token required on every endpoint but /healthz; it may do everything (run commands)." },
  API_READ_TOKEN: { schema: z.string().min(16, "must be at least 16 characters"), secret: true, doc: "A second bearer token that may only read (GET, HEAD): the dashboard without its buttons, list / show / logs, /metrics. Needs API_TOKEN." },
  API_USERS: { schema: ApiUsersSchema, default: "", secret: true, doc: "Comma-separated name=token pairs: tokens that may do everything API_TOKEN may, each known by its name — a decision made with it is by that name, and only such a name can decide an approval that lists approvers. Tokens at least 16 characters, each its own; a name may have several (to rotate one: add the new, then remove the old). Needs API_TOKEN." },
  API_READERS: { schema: ApiUsersSchema, default: "", secret: true, doc: "Comma-separated name=token pairs: tokens that may only read, as API_READ_TOKEN may (GET, HEAD: the dashboard without its buttons, list / show / logs, /metrics), each known by its name — a change one asks for is refused and recorded in the audit log under that name, and each can be revoked alone (a colleague who watches, a wall screen, a scraper). Tokens at least 16 characters, each its own. Needs API_TOKEN." },
  HTTP_TRUSTED_PROXIES: { schema: proxyList, default: "", doc: "Reverse proxies in front of the HTTP server (comma-separated: loopback, linklocal, uniquelocal, IP addresses, ranges like 10.0.0.0/8): a request through one is recorded in the audit log with the address its X-Forwarded-For names, not the proxy's. Only the audit log reads it; who may connect is still decided by the connection itself. Empty: the connection's address." },
  HTTP_ALLOWED_HOSTS: { schema: hostNameList, default: "", doc: "Without API_TOKEN, the host names the HTTP server answers to besides loopback ones (localhost, 127.x.x.x, ::1), e.g. a name in /etc/hosts that points at 127.0.0.1. A request naming another one (a page using DNS rebinding) gets 403, and so does a change (POST, PUT, PATCH, DELETE) asked for by another site's page." },
  PH_TASKS_URL: { schema: url(/^https?$/, "http or https"), default: "http://127.0.0.1:4000", doc: "Agent the `ph-tasks` client commands talk to." },
  LOG_LEVEL: { schema: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]), default: "info", doc: "Log level (also the reactor's)." },
  LOG_FORMAT: { schema: z.enum(["json", "pretty"]), default: "json", doc: "json for machines, pretty for a terminal." },
} satisfies Record<string, VariableSpec>;

export type VariableName = keyof typeof VARIABLES;
type Parsed<K extends VariableName> = z.output<(typeof VARIABLES)[K]["schema"]>;
type HasDefault<K extends VariableName> = (typeof VARIABLES)[K] extends { default: string } ? K : never;
export type Config = { [K in VariableName as HasDefault<K>]: Parsed<K> } & {
  [K in Exclude<VariableName, HasDefault<VariableName>>]?: Parsed<K>;
} & { dataDir: string; allowedRoots: string[] };

export class ConfigError extends Error {
  constructor(readonly errors: FieldError[]) {
    super(`invalid configuration:\n${formatFieldErrors(errors)}`);
    this.name = "ConfigError";
  }
}

/** Parses the environment. Empty strings count as unset. Throws ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined> = process.env, cwd = process.cwd()): Config {
  const values: Record<string, unknown> = {};
  const errors: FieldError[] = [];
  for (const [name, spec] of Object.entries(VARIABLES) as [string, VariableSpec][]) {
    const given = env[name];
    const raw = given !== undefined && given !== "" ? given : spec.default;
    if (raw === undefined) continue;
    const parsed = parseWith(spec.schema, raw);
    if (parsed.ok) values[name] = parsed.value;
    else errors.push(...parsed.errors.map((e) => ({ field: name, message: e.message, value: spec.secret ? "(hidden)" : JSON.stringify(raw) })));
  }
  const retryBase = values.TASK_RETRY_BASE_MS as number | undefined;
  const retryMax = values.TASK_RETRY_MAX_MS as number | undefined;
  if (retryBase !== undefined && retryMax !== undefined && retryMax < retryBase) {
    errors.push({ field: "TASK_RETRY_MAX_MS", message: `must be at least TASK_RETRY_BASE_MS (${retryBase} ms)`, value: String(retryMax) });
  }
  if (values.API_READ_TOKEN !== undefined && values.API_TOKEN === undefined) {
    errors.push({ field: "API_READ_TOKEN", message: "needs API_TOKEN: without it the API is open to everyone, and a read-only token means nothing", value: "(hidden)" });
  } else if (values.API_READ_TOKEN !== undefined && values.API_READ_TOKEN === values.API_TOKEN) {
    errors.push({ field: "API_READ_TOKEN", message: "must differ from API_TOKEN (which may do everything)", value: "(hidden)" });
  }
  for (const name of ["TASK_LIMIT_PROCESSES", "TASK_LIMIT_TOTAL_MEMORY_MB"]) {
    const total = values[name] as number | undefined;
    if (total !== undefined && values.TASK_CGROUP_ROOT === undefined) {
      errors.push({ field: name, message: "needs TASK_CGROUP_ROOT: a run's processes are counted together in its cgroup", value: String(total) });
    }
  }
  const users = (values.API_USERS as { name: string; token: string }[] | undefined) ?? [];
  if (users.length > 0 && values.API_TOKEN === undefined) {
    errors.push({ field: "API_USERS", message: "needs API_TOKEN: without it the API is open to everyone, and a named token proves nothing", value: "(hidden)" });
  } else if (users.some((u) => u.token === values.API_TOKEN || u.token === values.API_READ_TOKEN)) {
    errors.push({ field: "API_USERS", message: `${users.filter((u) => u.token === values.API_TOKEN || u.token === values.API_READ_TOKEN).map((u) => u.name).join(", ")}: a user's token must differ from API_TOKEN and API_READ_TOKEN`, value: "(hidden)" });
  }
  const readers = (values.API_READERS as { name: string; token: string }[] | undefined) ?? [];
  const otherTokens = new Set([values.API_TOKEN, values.API_READ_TOKEN, ...users.map((u) => u.token)].filter((t) => t !== undefined));
  if (readers.length > 0 && values.API_TOKEN === undefined) {
    errors.push({ field: "API_READERS", message: "needs API_TOKEN: without it the API is open to everyone, and a read-only token means nothing", value: "(hidden)" });
  } else if (readers.some((r) => otherTokens.has(r.token))) {
    errors.push({ field: "API_READERS", message: `${readers.filter((r) => otherTokens.has(r.token)).map((r) => r.name).join(", ")}: a reader's token must differ from API_TOKEN, API_READ_TOKEN and every API_USERS token (which may do more)`, value: "(hidden)" });
  }
  // A synced drive is written by others: without a writer list, each of them could run programs
  // here (and Claude with this agent's key). Like a public listen address without API_TOKEN, that
  // is refused unless the operator says so.
  if (values.REMOTE_DRIVE_URL !== undefined && (values.TASK_AUTHORIZED_WRITERS as unknown[] | undefined)?.length === 0 && values.TASK_ALLOW_ANY_WRITER !== true) {
    errors.push({
      field: "REMOTE_DRIVE_URL",
      value: JSON.stringify(values.REMOTE_DRIVE_URL),
      message: "is set but TASK_AUTHORIZED_WRITERS is empty: anyone who can write that drive could start tasks on this machine (programs, Claude with its API key); list the app keys that may in TASK_AUTHORIZED_WRITERS, or set TASK_ALLOW_ANY_WRITER=true to accept that",
    });
  }
  // A bare token may be sent to any server a task names; with two or more allowed, a document
  // could send one server's token to another. Each must then say which server it is for.
  const mcpServers = new Set((values.CLAUDE_AGENT_MCP_URLS as string[] | undefined) ?? []);
  const bareTokens = Object.entries((values.CLAUDE_AGENT_MCP_CREDENTIALS as Record<string, unknown> | undefined) ?? {}).filter(([, v]) => typeof v === "string").map(([name]) => name);
  if (mcpServers.size >= 2 && bareTokens.length > 0) {
    errors.push({
      field: "CLAUDE_AGENT_MCP_CREDENTIALS",
      value: "(hidden)",
      message: `${bareTokens.map((n) => `'${n}'`).join(", ")} ${bareTokens.length === 1 ? "is a bare token" : "are bare tokens"}, and CLAUDE_AGENT_MCP_URLS allows ${mcpServers.size} servers: a task could send ${bareTokens.length === 1 ? "it" : "them"} to any of them; give each as {"token":"…","url":"<the one server it is for>"}`,
    });
  }
  if (errors.length > 0) throw new ConfigError(errors);
  const dataDir = path.resolve(cwd, values.TASK_DATA_DIR as string);
  const roots = (values.TASK_ALLOWED_ROOTS as string[]).map((r) => path.resolve(cwd, r));
  return { ...(values as Omit<Config, "dataDir" | "allowedRoots">), dataDir, allowedRoots: roots.length > 0 ? roots : [cwd] };
}
