import type { Task } from "./types.js";

/** A task a worker holds from launch until its end is recorded. */
export interface RunningTask {
  task: Task;
  controller: AbortController;
  /** Its run is under way (holds a slot); false once the run returned and its end is being recorded. */
  executing: boolean;
  done: Promise<void>;
}
