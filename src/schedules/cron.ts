/**
 * Cron expressions, read by croner: 5 fields (minute precision) or 6 (with seconds first), the
 * usual nicknames (@daily, @hourly, ...), in an IANA time zone.
 */
import { Cron } from "croner";

/** The first occurrence strictly after `after`; null when there is none (e.g. 31 February). */
export function nextOccurrence(cron: string, timezone: string, after: Date): Date | null {
  const job = new Cron(cron, { paused: true, timezone });
  try {
    return job.nextRun(after);
  } finally {
    job.stop();
  }
}

/** Why `cron` cannot be used in `timezone`, or undefined when it can. */
export function cronProblem(cron: string, timezone: string): string | undefined {
  try {
    if (nextOccurrence(cron, timezone, new Date()) === null) return "has no future occurrence";
    return undefined;
  } catch (error) {
    // croner's messages start with its class name ("CronPattern: ...").
    return (error as Error).message.replace(/^Cron\w*: /, "");
  }
}

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
