/**
 * /api/tasks: create (validated, every field error at once), list with filters and pagination,
 * get one, its live events (SSE), cancel, retry — one, or many by filter — and follow up a Claude
 * task's conversation; /api/stats for the dashboard.
 */
import { attemptHistory } from "../../tasks/attempt-history.js";
import { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { TaskManager } from "../../tasks/task-manager.js";
import { MAX_PRIORITY, TASK_STATUSES, isTerminalStatus, type JsonValue } from "../../tasks/types.js";
import { cancelMatching, retryMatching } from "../../tasks/bulk-actions.js";
import { toListFilter } from "../../tasks/list-filter.js";
import { FollowUpBodySchema, followUpRequest, takesFollowUps } from "../../tasks/follow-up-request.js";
import { conversationTurns } from "../../tasks/conversation-turns.js";
import { parseWith } from "../../validation.js";
import { InstantSchema } from "../instant.js";
import { callerOf } from "../auth.js";
import { streamTaskEvents } from "../sse.js";
import { badRequest, route } from "./route.js";
import { typeStatsToJson } from "../type-stats-json.js";
import { taskToJson } from "../task-json.js";
import { failureToJson } from "../failure-json.js";

/** Creating a task through the API may also create its document (set by the agent). */
export type TaskCreator = (input: unknown, origin?: string, by?: string) => Promise<{ task: Parameters<typeof taskToJson>[0]; created: boolean }>;

/** The stretch /api/stats reports finished tasks over (counts, per minute, per type). */
const STATS_WINDOW_MINUTES = 60;

const FailuresQuerySchema = z.strictObject({
  since: InstantSchema.optional(),
  type: z.string().min(1).max(100).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

const ListQuerySchema = z.object({
  status: z
    .string()
    .transform((s) => s.split(",").filter(Boolean))
    .pipe(z.array(z.enum(TASK_STATUSES)))
    .optional(),
  type: z.string().min(1).max(40).optional(),
  documentId: z.string().min(1).max(200).optional(),
  driveId: z.string().min(1).max(200).optional(),
  /** Created at or after: an ISO date-time, or a time ago ("90m", "2h", "7d"). */
  since: InstantSchema.optional(),
  /** Created before: the same. */
  until: InstantSchema.optional(),
  /** Title contains, ignoring case. */
  q: z.string().min(1).max(200).optional(),
  /** Carries this tag. */
  tag: z.string().min(1).max(64).optional(),
  /** Asked for by this person: a name of API_USERS or of a named TASK_AUTHORIZED_WRITERS key. */
  by: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

/** What PATCH /api/tasks/:id may change: a waiting task's priority. */
const TaskPatchSchema = z.strictObject({ priority: z.int().min(0).max(MAX_PRIORITY) });

const AfterSchema = z.coerce.number().int().min(0).default(0);

function notFound(res: Response, id: string): void {
  res.status(404).json({ error: "not_found", message: `no task with id '${id}'` });
}

export function taskRoutes(manager: TaskManager, createTask: TaskCreator): Router {
  const router = Router();

  router.post("/api/tasks", route(async (req: Request, res: Response) => {
    // A ValidationError becomes a 400 naming every field (route.ts).
    // Who asked, as proven by a named token (API_USERS): kept in source.by; a request cannot say it itself.
    const { task, created } = await createTask(req.body, undefined, callerOf(res));
    res.status(created ? 201 : 200).json({ task: taskToJson(task), created });
  }));

  router.get("/api/tasks", route(async (req: Request, res: Response) => {
    const query = parseWith(ListQuerySchema, req.query);
    if (!query.ok) return badRequest(res, "query", query.errors);
    const { limit, offset } = query.value;
    const { tasks, total, totalCapped } = await manager.listTasks(toListFilter(query.value, { limit, offset }));
    res.json({ tasks: tasks.map(taskToJson), total, totalCapped, limit, offset });
  }));

  // Many at once, by filter (bulk-actions.ts); before the :id routes, which these paths would match.
  router.post("/api/tasks/retry", route(async (req: Request, res: Response) => {
    const { ids, ...rest } = await retryMatching(manager, req.body);
    res.json({ retried: ids, ...rest });
  }));

  router.post("/api/tasks/cancel", route(async (req: Request, res: Response) => {
    const { ids, ...rest } = await cancelMatching(manager, req.body);
    res.json({ cancelled: ids, ...rest });
  }));

  router.get("/api/tasks/:id", route(async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const task = await manager.getTask(id);
    if (!task) return notFound(res, id);
    // A waiting task says why: its dependencies, a pause, a rate limit, a busy document... (waiting-reason.ts)
    const waiting = task.status === "pending" ? await manager.whyWaiting(id) : undefined;
    res.json({ task: { ...taskToJson(task), ...(waiting ? { waiting } : {}) } });
  }));

  router.patch("/api/tasks/:id", route(async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const change = parseWith(TaskPatchSchema, req.body);
    if (!change.ok) return badRequest(res, "task change", change.errors);
    const before = await manager.getTask(id);
    if (!before) return notFound(res, id);
    const task = await manager.reprioritizeTask(id, change.value.priority);
    if (!task) return res.status(409).json({ error: "not_pending", message: `only a waiting (pending) task's priority can change; this one is ${before.status}` });
    res.json({ task: taskToJson(task) });
  }));

  router.get("/api/tasks/:id/events", route(async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const after = parseWith(AfterSchema, req.get("last-event-id") ?? req.query.after ?? 0);
    if (!after.ok) return badRequest(res, "Last-Event-ID", after.errors);
    if (!(await manager.getTask(id))) return notFound(res, id);
    await streamTaskEvents(manager, id, after.value, req, res);
  }));

  // Each attempt: its worker, start, end, duration and outcome (attempt-history.ts).
  router.get("/api/tasks/:id/attempts", route(async (req: Request, res: Response) => {
    const id = String(req.params.id);
    if (!(await manager.getTask(id))) return notFound(res, id);
    res.json({ attempts: attemptHistory(await manager.store.statusEntries(id)) });
  }));

  router.get("/api/tasks/:id/log", route(async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const after = parseWith(AfterSchema, req.query.after ?? 0);
    if (!after.ok) return badRequest(res, "after", after.errors);
    if (!(await manager.getTask(id))) return notFound(res, id);
    await manager.flushOutput();
    const events = await manager.getEvents(id, after.value, 1000);
    res.json({ events: events.map((e) => ({ seq: e.seq, kind: e.kind, stream: e.stream, data: e.data, at: e.created_at.toISOString() })), next: events.at(-1)?.seq ?? after.value });
  }));

  router.post("/api/tasks/:id/cancel", route(async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const before = await manager.getTask(id);
    if (!before) return notFound(res, id);
    if (!(await manager.cancelTask(id, "cancelled through the API"))) {
      return res.status(409).json({ error: "not_cancellable", message: `task is already ${before.status}` });
    }
    const after = await manager.getTask(id);
    res.status(202).json({ task: after ? taskToJson(after) : null });
  }));

  // A follow-up (follow-up-request.ts): the earlier task's fields, the new prompt, continueFrom.
  router.post("/api/tasks/:id/follow-up", route(async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const earlier = await manager.getTask(id);
    if (!earlier) return notFound(res, id);
    if (!takesFollowUps(manager.registry, earlier.type)) {
      return res.status(409).json({ error: "no_follow_ups", message: `a ${earlier.type} task has no conversation to continue: follow-ups are for Claude tasks (claude-code, claude-agent)` });
    }
    const body = parseWith(FollowUpBodySchema, req.body);
    if (!body.ok) return badRequest(res, "body", body.errors);
    const { task, created } = await createTask(followUpRequest(earlier, body.value), undefined, callerOf(res));
    res.status(created ? 201 : 200).json({ task: taskToJson(task), created });
  }));

  // The kept conversation's turns (conversation-turns.ts), the agent's secrets taken out.
  router.get("/api/tasks/:id/conversation", route(async (req: Request, res: Response) => {
    const id = String(req.params.id);
    if (!(await manager.getTask(id))) return notFound(res, id);
    const kept = await manager.conversations.load(id);
    if (!kept) return res.status(404).json({ error: "no_conversation", message: `task ${id} has no conversation kept (not a Claude task, not run yet, or too long to keep)` });
    const { turns, total } = conversationTurns(kept.transcript);
    res.json({ taskId: id, sessionId: kept.sessionId, bytes: kept.transcript.length, total, turns: manager.redactor.json(turns as unknown as JsonValue) });
  }));

  router.post("/api/tasks/:id/retry", route(async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const before = await manager.getTask(id);
    if (!before) return notFound(res, id);
    const task = await manager.retryTask(id);
    if (!task) return res.status(409).json({ error: "not_retryable", message: `only failed or cancelled tasks can be retried; this one is ${before.status}` });
    res.json({ task: taskToJson(task) });
  }));

  router.get("/api/stats", route(async (_req: Request, res: Response) => {
    // Waiting and running: all of them now; the ends: the last hour's (the whole retained history
    // is not read on each refresh — see migration 023).
    const { active, perMinute, types: lastHour, failures } = await manager.store.overview(STATS_WINDOW_MINUTES);
    const counts: Record<string, number> = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0]));
    for (const row of active) counts[row.status] = (counts[row.status] ?? 0) + row.count;
    for (const row of lastHour) {
      counts.completed = (counts.completed ?? 0) + row.completed;
      counts.failed = (counts.failed ?? 0) + row.failed;
      counts.cancelled = (counts.cancelled ?? 0) + row.cancelled;
    }
    const types = typeStatsToJson(manager.registry.types(), active, lastHour);
    res.json({
      counts,
      finishedWindowMinutes: STATS_WINDOW_MINUTES,
      queueDepth: counts.pending ?? 0,
      running: manager.runningTaskIds().length,
      runningAllWorkers: counts.running ?? 0,
      perMinute: perMinute.map((r) => ({ minute: r.minute.toISOString(), status: r.status, count: r.count })),
      terminal: TASK_STATUSES.filter((s) => isTerminalStatus(s)),
      types,
      failures: failures.map(failureToJson),
    });
  }));

  // Why tasks failed for good: per type and error code since a time (default a day), most frequent first.
  router.get("/api/failures", route(async (req: Request, res: Response) => {
    const query = parseWith(FailuresQuerySchema, req.query);
    if (!query.ok) return badRequest(res, "failures query", query.errors);
    const since = query.value.since ?? new Date(Date.now() - 86_400_000);
    const rows = await manager.store.failureReasons(since, query.value.type, query.value.limit);
    res.json({ since: since.toISOString(), failures: rows.map(failureToJson) });
  }));

  return router;
}
