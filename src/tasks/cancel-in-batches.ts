/**
 * Cancels what a query finds, a batch at a time, until a batch comes back short: each round's
 * tasks leave the next round's answer (cancelled, or ended meanwhile); bounded all the same. Used
 * by the sweeps that end waiting tasks for good (a failed dependency, a passed startBy).
 */
export type CancelTask = (id: string, reason: string, code: string) => Promise<boolean>;

const BATCH = 100;

/** `find(limit)` returns the tasks to end, each with its reason; returns how many were cancelled. */
export async function cancelInBatches(find: (limit: number) => Promise<{ id: string; reason: string }[]>, cancel: CancelTask, code: string): Promise<number> {
  let cancelled = 0;
  for (let round = 0; round < 100; round++) {
    const found = await find(BATCH);
    for (const task of found) if (await cancel(task.id, task.reason, code)) cancelled++;
    if (found.length < BATCH) break;
  }
  return cancelled;
}
