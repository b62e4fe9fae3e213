/** The pipelines' table, beside the tasks': one interface over sql/pipelines/. */
import type { Db, Queryable } from "./db.js";
import type { TaskRow } from "./interfaces.js";
import { insertPipeline } from "./sql/pipelines/insert-pipeline.js";
import { listPipelines } from "./sql/pipelines/list-pipelines.js";
import { listPipelinesByStatus } from "./sql/pipelines/list-pipelines-by-status.js";
import type { NewPipelineRow, PipelineRow } from "./sql/pipelines/pipeline-row.js";
import { selectPipeline, selectPipelineByIdempotencyKey } from "./sql/pipelines/select-pipeline.js";
import { selectTasksByIds } from "./sql/pipelines/select-tasks-by-ids.js";
import { markWrittenStatus } from "./sql/pipelines/mark-written-status.js";
import { takeWrittenStatus } from "./sql/pipelines/written-status.js";
import { selectUnwrittenRuleEnds } from "./sql/pipelines/select-unwritten-rule-ends.js";
import type { UnwrittenEnds } from "./sql/write-back-sql.js";

export class PipelineStore {
  constructor(readonly db: Db) {}

  /** In the transaction of its tasks (`tx`); undefined when its idempotency key is taken. */
  insert(tx: Queryable, row: NewPipelineRow): Promise<PipelineRow | undefined> {
    return insertPipeline(tx, row);
  }

  get(id: string): Promise<PipelineRow | undefined> {
    return selectPipeline(this.db, id);
  }

  getByIdempotencyKey(key: string): Promise<PipelineRow | undefined> {
    return selectPipelineByIdempotencyKey(this.db, key);
  }

  /** Newest first; only those of `status` when given (the status their tasks give them now). */
  list(limit: number, offset: number, status?: string): Promise<PipelineRow[]> {
    return status === undefined ? listPipelines(this.db, limit, offset) : listPipelinesByStatus(this.db, status, limit, offset);
  }

  /** The end's mark for the one caller that is to write this end back to its document (for `leaseMs`); undefined for any other. */
  takeWrittenStatus(id: string, status: string, leaseMs: number): Promise<string | undefined> {
    return takeWrittenStatus(this.db, id, status, leaseMs);
  }

  /** This end is written back (or needs no writing); with `mark`, only while it is the end taken. */
  markWritten(id: string, status: string, mark?: string): Promise<void> {
    return markWrittenStatus(this.db, id, status, mark);
  }

  /** Rule pipelines ended without their end written back, and no writer holding it. */
  unwrittenRuleEnds(limit: number, since?: Date): Promise<UnwrittenEnds> {
    return selectUnwrittenRuleEnds(this.db, limit, since);
  }

  /** The tasks of these ids still stored. */
  tasks(ids: readonly string[]): Promise<TaskRow[]> {
    return selectTasksByIds(this.db, ids);
  }
}
