/**
 * The `ph-tasks` client side: talks to a running agent over HTTP (PH_TASKS_URL, API_TOKEN) and
 * checks what comes back with zod before printing it.
 */
import { z } from "zod";
import { EXIT } from "./exit-codes.js";

export const ApiTaskSchema = z.looseObject({
  id: z.string(),
  type: z.string(),
  title: z.string(),
  status: z.enum(["pending", "running", "completed", "failed", "cancelled"]),
  attempts: z.number(),
  maxAttempts: z.number(),
  priority: z.number(),
  createdAt: z.string().nullable(),
  startedAt: z.string().nullable().optional(),
  finishedAt: z.string().nullable().optional(),
  result: z.unknown().optional(),
  error: z.object({ kind: z.string(), code: z.string(), message: z.string() }).optional(),
  /** Who asked: `origin` ("api", "document", "schedule:<name>"...), `by` the person as proven (a named token's or key's name). */
  source: z.looseObject({ origin: z.string().optional(), by: z.string().optional() }).optional(),
  /** Why a pending task has not started (GET /api/tasks/:id only). */
  waiting: z.object({ code: z.string(), message: z.string(), until: z.string().optional(), tasks: z.array(z.string()).optional() }).optional(),
});
export type ApiTask = z.infer<typeof ApiTaskSchema>;

const ErrorBodySchema = z.looseObject({ error: z.string(), message: z.string().optional(), errors: z.array(z.object({ field: z.string(), message: z.string(), value: z.string().optional() })).optional() });

export class ClientError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = "ClientError";
  }
}

export class AgentClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string | undefined,
  ) {}

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}), ...extra };
  }

  async request<T>(method: string, path: string, schema: z.ZodType<T>, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: this.headers(body !== undefined ? { "Content-Type": "application/json" } : {}),
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      throw new ClientError(`cannot reach the agent at ${this.baseUrl} (${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}); is \`ph-tasks serve\` running? (PH_TASKS_URL)`, EXIT.unreachable);
    }
    const json: unknown = await res.json().catch(() => undefined);
    if (!res.ok) {
      const parsed = ErrorBodySchema.safeParse(json);
      const detail = parsed.success ? [parsed.data.message ?? parsed.data.error, ...(parsed.data.errors ?? []).map((e) => `  ${e.field}: ${e.message}${e.value !== undefined ? ` (got ${e.value})` : ""}`)].join("\n") : `HTTP ${res.status}`;
      const code = res.status === 404 ? EXIT.notFound : [400, 401, 403].includes(res.status) ? EXIT.usage : EXIT.taskFailed;
      throw new ClientError(res.status === 401 ? `${detail} (set API_TOKEN)` : detail, code);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new ClientError(`unexpected answer from the agent: ${parsed.error.message}`, EXIT.taskFailed);
    return parsed.data;
  }
}
