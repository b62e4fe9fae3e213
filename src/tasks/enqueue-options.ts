/**
 * Tasks enqueued together that wait for each other (a pipeline's steps): their ids are made
 * beforehand, so each names the others in an ordinary dependsOn, and the store links them in the
 * batch's own transaction.
 */
import type { InsertWithin } from "../store/task-store.js";

export interface EnqueueOptions {
  /** ids[i]: the id of the i-th task (made with uuid v7, time-ordered like the manager's own). */
  ids?: readonly string[];
  /** Writes what belongs with the tasks (a pipeline's row) in their transaction. */
  within?: InsertWithin;
}
