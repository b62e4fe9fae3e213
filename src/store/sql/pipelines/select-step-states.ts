import type { Queryable } from "../../db.js";
import type { TaskRow } from "../../interfaces.js";

/** What deciding a pipeline's status needs of a step's task. */
export interface StepState {
  id: string;
  status: TaskRow["status"];
  error: TaskRow["error"];
  /** "cancel": it is cancelled when a step it waits for fails; otherwise it waits for a retry. */
  on_dependency_failure: string | null;
}

/** The states of the tasks of these ids that are still stored. */
export async function selectStepStates(db: Queryable, ids: readonly string[]): Promise<StepState[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<StepState>(
    "SELECT id, status, error, params->>'onDependencyFailure' AS on_dependency_failure FROM ph_tasks WHERE id = ANY($1::text[])",
    [ids],
  );
  return rows;
}
