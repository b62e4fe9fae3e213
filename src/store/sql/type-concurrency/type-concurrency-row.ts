/** A row of ph_type_concurrency, with how many of the type run now (every worker). */
export interface TypeConcurrencyRow {
  task_type: string;
  max_running: number;
  reason: string;
  set_at: Date;
  running: number;
}
