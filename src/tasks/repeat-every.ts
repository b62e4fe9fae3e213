import type { Logger } from "../logger.js";

/** Runs `job` every `ms` in the background (not keeping the process alive); a failure is logged, the next run comes anyway. */
export function repeatEvery(ms: number, job: () => Promise<void>, logger: Logger): NodeJS.Timeout {
  const timer = setInterval(() => void job().catch((error: unknown) => logger.error({ err: error }, "task manager background job failed")), ms);
  timer.unref();
  return timer;
}
