/**
 * TaskEventHandler (seed §4): the bridge between the reactor and the task manager.
 *
 *  - processOperations: a run request (REQUEST_RUN, RETRY) on a task document becomes a task,
 *    keyed by document + request so a repeated event does nothing; a CANCEL cancels it; an
 *    operation matching a trigger rule (any document type) becomes the rule's task; a document
 *    removed from its drive cancels its unfinished tasks (document-deletion.ts).
 *  - processDocument: a task document that arrives already asking for a run becomes a task.
 *  - handleTaskResult (and the other lifecycle events): status, output tail and result are
 *    written back to the source document; a rule's result mapping is applied.
 *  - scan: at start-up, documents that ask for work or show a run the store has finished are
 *    caught up — the reactor replays no events on restart.
 *
 * Reactor handlers never throw (a synchronous throw makes the reactor report a stored operation
 * as failed): every handler starts async work and logs its errors.
 */
import type { IDocumentDriveServer } from "document-drive";
import type { Action, Operation, PHDocument } from "document-model";
import type { Logger } from "../logger.js";
import type { TaskMetrics } from "../metrics.js";
import { DocumentDirectory } from "../reactor/document-directory.js";
import { getTaskDocumentState, requestOperationType } from "../reactor/documents.js";
import type { TaskDocumentWriter } from "../reactor/document-writer.js";
import { actions } from "../reactor/task-document/actions.js";
import { AGENT_OPERATION_TYPES, DECISION_TYPES, RUN_REQUEST_TYPES } from "../reactor/task-document/operations.js";
import { decideFromDocument } from "./approvals.js";
import { TASK_DOCUMENT_TYPE, type TaskDocumentState } from "../reactor/task-document/state.js";
import type { Rule } from "../rules/rules-schema.js";
import type { PipelineService } from "../pipelines/pipeline-service.js";
import type { RuleResultStore } from "../store/rule-result-store.js";
import { asksForPipeline, PipelineDocuments } from "./pipeline-documents.js";
import { RuleRunner } from "../rules/rule-runner.js";
import { formatFieldErrors, ValidationError } from "../validation.js";
import type { WriterPolicy } from "../security/authorized-writers.js";
import { writerRefusal } from "./writer-refusal.js";
import type { AuditLog } from "../audit/audit-log.js";
import { documentActor } from "../audit/document-actor.js";
import type { LoopGuard } from "./loop-guard.js";
import { cancelTasksOfRemovedDocuments, deletesNodes } from "./document-deletion.js";
import { now, TaskDocumentReports } from "./task-document-reports.js";
import { documentIdempotencyKey, requestFromTaskDocument, TASK_REQUEST_PREFIX } from "./task-from-document.js";
import type { WaitingReason } from "./waiting-reason.js";
import { WaitingNotices } from "./waiting-notices.js";
import { DocumentCatchUp } from "./document-catch-up.js";
import type { TaskManager } from "./task-manager.js";
import { isTerminalStatus, type JsonValue, type Task, type TaskError } from "./types.js";

export interface EventHandlerDeps {
  manager: TaskManager;
  reactor: IDocumentDriveServer;
  writer: TaskDocumentWriter;
  guard: LoopGuard;
  rules: readonly Rule[];
  logger: Logger;
  metrics?: TaskMetrics;
  /** How often documents of tasks run elsewhere are caught up (default 2 s). */
  catchUpIntervalMs?: number;
  /** Who may start and stop work (TASK_AUTHORIZED_WRITERS); absent: every writer of the drive. */
  writers?: WriterPolicy;
  /** Where trigger rules whose task is a pipeline make it. */
  pipelines?: PipelineService;
  /** Where run requests, cancels and decisions on task documents are recorded, with who wrote them. */
  audit?: AuditLog;
  /** Where a rule task's end is taken for writing back (absent: written by the worker that ended it, not swept). */
  ruleResults?: RuleResultStore;
  /** How long a writer holds a rule's end it took (default 30 s). */
  writeBackLeaseMs?: number | undefined;
  /** How long a document's task waits in the queue before the document is told why (waiting-notices.ts); tests shorten it. */
  waitToldAfterMs?: number | undefined;
}

export class TaskEventHandler {
  private readonly directory: DocumentDirectory;
  /** Trigger rules: what operations start tasks, and what their results write back. */
  private readonly ruleRunner: RuleRunner;
  /** Task documents that ask for a pipeline (taskType "pipeline"), where pipelines are available. */
  private readonly pipelineDocuments: PipelineDocuments | undefined;
  /** What a task document is told of its task's run: started, output, retrying, its end. */
  private readonly reports: TaskDocumentReports;
  /** Actions the agent wrote as bookkeeping: never triggers. */
  private readonly ownActions = new Set<string>();
  private readonly pending = new Set<Promise<unknown>>();
  /** Brings task documents up to date with their tasks, and tells them why one waits. */
  private readonly catchUps: DocumentCatchUp;
  /** Task documents waiting for their task (document id → task id), for the periodic catch-up. */
  private readonly active = new Map<string, string>();
  private readonly detachers: (() => void)[] = [];

  constructor(private readonly deps: EventHandlerDeps) {
    this.directory = new DocumentDirectory(deps.reactor);
    this.ruleRunner = new RuleRunner({ ...deps, directory: this.directory, writerRefusal: (documentId, action) => this.writerRefusal(documentId, action), provenWriter: (action) => this.provenWriter(action) });
    this.pipelineDocuments = deps.pipelines ? new PipelineDocuments(deps.pipelines, deps.writer) : undefined;
    this.reports = new TaskDocumentReports(deps.writer, this.pipelineDocuments);
    const waitingNotices = new WaitingNotices({ whyWaiting: (id) => deps.manager.whyWaiting(id), tell: (task, reason) => this.reports.waiting(task, reason), afterMs: deps.waitToldAfterMs });
    this.catchUps = new DocumentCatchUp({ manager: deps.manager, writer: deps.writer, pipelineDocuments: this.pipelineDocuments, waitingNotices });
  }

  /** Called by the writer for every action it applies. */
  noteOwnAction(action: Action): void {
    if (!this.ruleRunner.wroteResult(action.id)) this.ownActions.add(action.id);
  }

  attach(): void {
    const { reactor, manager } = this.deps;
    this.detachers.push(
      reactor.on("documentAdded", (document: PHDocument) => this.track("documentAdded", () => this.processDocument(document))),
      reactor.on("operationsAdded", (documentId: string, operations: Operation[]) => this.track("operationsAdded", () => this.processOperations(documentId, operations))),
    );
    const onManager = <A extends unknown[]>(fn: (...args: A) => Promise<void>) => (...args: A) => void this.track("taskEvent", () => fn(...args));
    const handlers = {
      started: onManager((task: Task, info: { workerId: string; attempt: number }) => this.reports.started(task, info)),
      output: (task: Task, chunk: { data: string }) => this.reports.output(task, chunk.data),
      retrying: onManager((task: Task, info: { attempt: number; delayMs: number; error: TaskError }) => this.reports.retrying(task, info)),
      completed: onManager((task: Task, info: { result: JsonValue; durationMs: number }) => this.handleTaskResult(task, info.result, info.durationMs)),
      failed: onManager((task: Task, info: { result?: JsonValue; durationMs: number }) => this.handleTaskResult(task, info.result ?? null, info.durationMs)),
      cancelled: onManager((task: Task, info: { result?: JsonValue }) => this.handleTaskResult(task, info.result ?? null, undefined)),
      awaitingApproval: onManager((task: Task) => this.reports.awaitingApproval(task)),
      waiting: onManager((task: Task, reason: WaitingReason) => this.reports.waiting(task, reason)),
    };
    for (const [event, handler] of Object.entries(handlers)) manager.on(event as "started", handler as never);
    this.detachers.push(() => {
      for (const [event, handler] of Object.entries(handlers)) manager.off(event as "started", handler as never);
    });
    // Tasks that another worker (sharing the database) runs send this process no events: their
    // documents are brought up to date from the store every couple of seconds.
    const timer = setInterval(() => this.track("catchUp", () => this.catchUpActive()), this.deps.catchUpIntervalMs ?? 2000);
    timer.unref();
    this.detachers.push(() => clearInterval(timer));
  }

  /** Catches up every waiting task document whose task does not run in this process, and rules' tasks' and pipelines' ends. */
  async catchUpActive(): Promise<void> {
    // Its own failure (the store away) must not stop the documents' catch-up below.
    await this.ruleRunner.sweepResults().catch((error: unknown) => this.deps.logger.error({ err: error }, "looking for rules' tasks and pipelines whose end was not written back failed; trying again shortly"));
    const local = new Set(this.deps.manager.heldTaskIds());
    for (const [documentId, taskId] of [...this.active]) {
      if (local.has(taskId)) continue;
      const status = await this.catchUp(documentId, taskId, true);
      if (status === undefined || isTerminalStatus(status)) this.active.delete(documentId);
    }
  }

  detach(): void {
    for (const off of this.detachers.splice(0)) off();
  }

  /** Resolves when the work started by the events seen so far is done (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    await this.deps.writer.idle();
  }

  private track(what: string, fn: () => Promise<unknown>): void {
    this.deps.metrics?.reactorEvents.inc({ event: what });
    const promise = Promise.resolve()
      .then(fn)
      .catch((error: unknown) => this.deps.logger.error({ err: error, what }, "task event handler failed"));
    this.pending.add(promise);
    void promise.finally(() => this.pending.delete(promise));
  }

  private async readTaskState(documentId: string): Promise<TaskDocumentState> {
    return getTaskDocumentState(this.deps.reactor, documentId);
  }

  /** The seed's processDocument: a task document that arrives asking for a run becomes a task. */
  async processDocument(document: PHDocument): Promise<Task[]> {
    this.directory.noteType(document.header.id, document.header.documentType);
    if (document.header.documentType !== TASK_DOCUMENT_TYPE) return [];
    const state = (document.state as unknown as { global: TaskDocumentState }).global;
    if (state.status !== "requested" || !state.lastRequestId) return [];
    const task = await this.enqueueForDocument(document.header.id, state, undefined);
    return task ? [task] : [];
  }

  /** The seed's processOperations: run requests, cancels and rule triggers → tasks. */
  async processOperations(documentId: string, operations: readonly Operation[]): Promise<Task[]> {
    const type = await this.directory.typeOf(documentId);
    if (type === undefined || type === "powerhouse/document-drive") {
      this.directory.learnFromDrive(documentId, operations); // drive operations: where files live
      if (deletesNodes(operations)) await cancelTasksOfRemovedDocuments(this.deps.manager, this.deps.reactor, documentId, this.deps.logger);
      return [];
    }
    const tasks: Task[] = [];
    for (const op of operations) {
      if (op.error) continue; // refused by the reducer: it changed nothing
      const actionId = op.action.id;
      if (this.ownActions.delete(actionId)) continue;
      if (type === TASK_DOCUMENT_TYPE && AGENT_OPERATION_TYPES.has(op.action.type)) continue; // another agent's bookkeeping
      const chain = this.ruleRunner.takeChain(actionId);
      if (type === TASK_DOCUMENT_TYPE) {
        if (RUN_REQUEST_TYPES.has(op.action.type)) {
          const task = await this.enqueueForDocument(documentId, undefined, { id: op.id, type: op.action.type, action: op.action });
          if (task) tasks.push(task);
          // The request a task's own document carries (the API, a hook or a schedule made the task and the request): audited there.
          const own = task !== undefined && (op.action.input as { requestId?: unknown } | undefined)?.requestId === `${TASK_REQUEST_PREFIX}${task.id}`;
          if (!own) this.audited(documentId, op.action, task ? "done" : "no task", task ? `task ${task.id}` : "see the document");
        } else if (op.action.type === "CANCEL") {
          const refusal = await this.writerRefusal(documentId, op.action);
          if (!refusal) await this.cancelForDocument(documentId);
          else await this.deps.writer.write(documentId, "notice", () => actions.addNotice({ level: "warning", message: `cancel ignored: ${refusal.message}`, at: now() }));
          this.audited(documentId, op.action, refusal ? "refused" : "done", refusal?.message);
        } else if (DECISION_TYPES.has(op.action.type)) {
          const said = await decideFromDocument(this.deps.manager, this.deps.writers, documentId, (await this.readTaskState(documentId)).currentTaskId, op.action);
          const verb = op.action.type === "APPROVE" ? "approval" : "rejection";
          const refusal = said?.counted ? undefined : said;
          if (said) await this.deps.writer.write(documentId, "notice", () => actions.addNotice({ level: said.counted ? "info" : "warning", message: said.counted ? said.message : `${verb} ignored: ${said.message}`, at: now() }));
          this.audited(documentId, op.action, refusal ? "refused" : "done", said?.message);
        }
      }
      tasks.push(...(await this.ruleRunner.applyRules(documentId, type, op, chain)));
    }
    return tasks;
  }

  /** A run request on a task document → a task (or a REJECT_REQUEST saying why not). */
  async enqueueForDocument(documentId: string, known: TaskDocumentState | undefined, operation: { id: string; type: string; action?: Action } | undefined): Promise<Task | undefined> {
    const { manager } = this.deps;
    const global = known ?? (await this.readTaskState(documentId));
    const requestId = global.lastRequestId;
    if (global.status !== "requested" || !requestId) return undefined;
    if (asksForPipeline(global)) return this.startPipelineForDocument(documentId, global, requestId, operation);
    let task: Task | undefined;
    if (requestId.startsWith(TASK_REQUEST_PREFIX)) {
      // Enqueued by the API before it asked the document: the task exists.
      task = (await manager.getTask(requestId.slice(TASK_REQUEST_PREFIX.length))) ?? undefined;
    } else {
      const existing = await manager.findByIdempotencyKey(documentIdempotencyKey(documentId, requestId));
      if (existing) task = existing;
      else {
        const driveId = (await this.directory.driveOf(documentId)) ?? "";
        if (!(await this.admitRun(documentId, requestId, driveId, operation))) return undefined;
        try {
          task = (await manager.enqueueTask(requestFromTaskDocument(global, { documentId, driveId }, requestId, operation && { ...operation, by: this.provenWriter(operation.action) }))).task;
        } catch (error) {
          return this.rejectInvalid(documentId, requestId, error);
        }
      }
    }
    if (!task) return undefined;
    await this.markQueued(documentId, requestId, task.id);
    // Held from the start by the spent daily budget (not claimed, so no worker would tell): the document says until when. A drive's budget is told as the task is claimed.
    const held = manager.budgets.dailyHold(task);
    if (held) await this.reports.waiting(task, held);
    return task;
  }

  /** The document says queued for `id` (a task's or a pipeline's), then catches up: it may have started, or even finished. */
  private async markQueued(documentId: string, requestId: string, id: string): Promise<void> {
    await this.deps.writer.write(documentId, "queued", (s) => (s.status === "requested" && s.lastRequestId === requestId ? actions.markQueued({ taskId: id, requestId }) : undefined));
    this.active.set(documentId, id);
    await this.catchUp(documentId, id);
  }

  /** Whether the writer of this run request may start work (authorised writer, loop guard); if not, the document says why. */
  private async admitRun(documentId: string, requestId: string, driveId: string, operation: { action?: Action } | undefined): Promise<boolean> {
    const refusal = (await this.writerRefusal(documentId, operation?.action)) ?? this.deps.guard.admit(documentId, 0, Date.now(), driveId || undefined);
    if (!refusal) return true;
    this.deps.logger.warn({ documentId, code: refusal.code }, `run request dropped: ${refusal.message}`);
    await this.rejectRun(documentId, requestId, refusal);
    return false;
  }

  /** A request the checks refused (ValidationError): the document says which fields; anything else is thrown on. */
  private async rejectInvalid(documentId: string, requestId: string, error: unknown): Promise<undefined> {
    if (!(error instanceof ValidationError)) throw error;
    await this.rejectRun(documentId, requestId, { code: "invalid_task", message: formatFieldErrors(error.errors, "; ") });
    return undefined;
  }

  private rejectRun(documentId: string, requestId: string, error: { code: string; message: string }): Promise<void> {
    return this.deps.writer.write(documentId, "reject", (s) => (s.status === "requested" && s.lastRequestId === requestId ? actions.rejectRequest({ requestId, error, at: now() }) : undefined));
  }

  /** A run request on a task document that asks for a pipeline (pipeline-documents.ts): the pipeline, made once. */
  private async startPipelineForDocument(documentId: string, state: TaskDocumentState, requestId: string, operation: { id: string; type: string; action?: Action } | undefined): Promise<Task | undefined> {
    const documents = this.pipelineDocuments;
    if (!documents) {
      await this.rejectRun(documentId, requestId, { code: "invalid_task", message: "taskType: pipelines are not available on this agent" });
      return undefined;
    }
    let pipeline = await documents.existing(documentId, requestId);
    if (!pipeline) {
      const driveId = (await this.directory.driveOf(documentId)) ?? "";
      if (!(await this.admitRun(documentId, requestId, driveId, operation))) return undefined;
      // REQUEST_RUN or RETRY: at start-up (no operation given) the document's operation that made the request says.
      const type = operation?.type ?? (await requestOperationType(this.deps.reactor, documentId, requestId));
      const retrying = type === "RETRY" ? await documents.retryable(state) : undefined;
      if (retrying) {
        await documents.retry(retrying.id);
        pipeline = retrying;
      } else {
        try {
          pipeline = await documents.start(state, documentId, driveId, requestId, operation && { ...operation, by: this.provenWriter(operation.action) });
        } catch (error) {
          return this.rejectInvalid(documentId, requestId, error);
        }
      }
    }
    await this.markQueued(documentId, requestId, pipeline.id);
    return pipeline.steps[0]?.task;
  }

  /** Brings a task document up to date with its task in the store (document-catch-up.ts). */
  catchUp(documentId: string, taskId: string, periodic = false): Promise<Task["status"] | undefined> {
    return this.catchUps.catchUp(documentId, taskId, periodic);
  }

  /**
   * The name a run request's writer is known by, once admitRun let it through: its key's, when
   * TASK_AUTHORIZED_WRITERS lists it named (the signature was verified there); else no one proven.
   */
  private provenWriter(action: Action | undefined): string | undefined {
    const writers = this.deps.writers;
    const key = action?.context?.signer?.app.key;
    return writers && !writers.open && key ? writers.nameOf(key) : undefined;
  }

  /** A task document's run request, cancel or decision, in the audit log with who wrote it. */
  private audited(documentId: string, action: Action, outcome: string, why: string | undefined): void {
    this.deps.audit?.record({ actor: documentActor(action, this.deps.writers), via: "document", action: action.type, outcome, detail: `document ${documentId}${why ? `: ${why}` : ""}` });
  }

  private writerRefusal(documentId: string, action: Action | undefined): Promise<{ code: string; message: string } | undefined> {
    return writerRefusal(this.deps.writers, this.deps.reactor, documentId, action);
  }

  private async cancelForDocument(documentId: string): Promise<void> {
    const state = await this.readTaskState(documentId);
    const { currentTaskId, lastRequestId } = state;
    if (asksForPipeline(state)) {
      const id = currentTaskId ?? (lastRequestId ? (await this.pipelineDocuments?.existing(documentId, lastRequestId))?.id : undefined);
      if (id) await this.pipelineDocuments?.cancel(id, "cancelled from its document");
      return;
    }
    const taskId = currentTaskId ?? (lastRequestId ? (await this.deps.manager.findByIdempotencyKey(documentIdempotencyKey(documentId, lastRequestId)))?.id : undefined);
    if (taskId) await this.deps.manager.cancelTask(taskId, "cancelled from its document");
  }

  /** The seed's handleTaskResult: the final status and result go back to the source document. */
  async handleTaskResult(task: Task, result: JsonValue | null, durationMs: number | undefined): Promise<void> {
    await this.reports.ended(task, result, durationMs);
    const origin = task.source?.origin ?? "";
    if (origin.startsWith("rule:") && task.source?.documentId) await this.ruleRunner.applyResultMapping(task, origin.slice(5), result);
  }

  /**
   * Start-up: the reactor replays nothing, so look at every task document. Requested runs are
   * enqueued; runs the store has already finished (the agent stopped before writing back) get
   * their final status written.
   */
  async scan(): Promise<{ enqueued: number; caughtUp: number }> {
    let enqueued = 0;
    let caughtUp = 0;
    const locations = await this.directory.scan();
    for (const location of locations.filter((l) => l.documentType === TASK_DOCUMENT_TYPE)) {
      try {
        const state = await this.readTaskState(location.documentId);
        if (state.status === "requested") {
          if (await this.enqueueForDocument(location.documentId, state, undefined)) enqueued++;
        } else if ((state.status === "queued" || state.status === "running") && state.currentTaskId) {
          this.active.set(location.documentId, state.currentTaskId);
          const task = await this.deps.manager.getTask(state.currentTaskId);
          if (task && isTerminalStatus(task.status)) {
            await this.catchUp(location.documentId, task.id);
            caughtUp++;
          }
        }
      } catch (error) {
        // One unreadable document (e.g. truncated by a crash mid-write) must not stop the others.
        this.deps.logger.error({ err: error, documentId: location.documentId }, "could not read a task document at start-up");
      }
    }
    return { enqueued, caughtUp };
  }
}
