/** A row of ph_queue_pauses. */
export interface PauseRow {
  /** A task type, or "*" for every type. */
  task_type: string;
  reason: string;
  paused_at: Date;
}

/** The task_type of a pause of every type. */
export const ALL_TYPES = "*";
