/** Every task of a pipeline carries the tag `pipeline:<id>`. */
export const PIPELINE_TAG_PREFIX = "pipeline:";

/** The pipeline a task's tag names (its own, or one given by hand: check it holds the task). */
export function pipelineIdOf(task: { tags?: readonly string[] | undefined }): string | undefined {
  return task.tags?.find((tag) => tag.startsWith(PIPELINE_TAG_PREFIX))?.slice(PIPELINE_TAG_PREFIX.length);
}

/** A pipeline's step as stored: its name, its task, and the steps it waits for (by name). */
export interface StoredStep {
  name: string;
  taskId: string;
  after: string[];
}

/** A row of ph_pipelines as the SQL returns it (migration 031). */
export interface PipelineRow {
  id: string;
  title: string;
  /** Who asked: "api", "cli"... as a task's source.origin. */
  origin: string;
  idempotency_key: string | null;
  steps: StoredStep[];
  task_ids: string[];
  created_at: Date;
  /** The last end told to webhooks (migration 032); null since it last ran, or never told. */
  announced_status: string | null;
  /** The last end a trigger rule wrote back to the document that asked for it (migration 032). */
  written_status: string | null;
}

export type NewPipelineRow = Omit<PipelineRow, "created_at" | "announced_status" | "written_status">;
