/**
 * A task type named in a queue request (a rate limit, a concurrency cap) must be one of this
 * agent's: a typo would limit nothing and look like it worked.
 */
import { z } from "zod";
import type { ExecutorRegistry } from "../tasks/executors/registry.js";
import { parseWith, ValidationError } from "../validation.js";

/** Returns a checker: the type as given, or a ValidationError on `taskType` naming `what` and the known types. */
export function taskTypeChecker(registry: ExecutorRegistry): (type: string, what: string) => string {
  const known = registry.types() as [string, ...string[]];
  const schema = z.object({ taskType: z.enum(known, { error: `must be one of ${known.join(", ")}` }) });
  return (type, what) => {
    const parsed = parseWith(schema, { taskType: type });
    if (!parsed.ok) throw new ValidationError(what, parsed.errors);
    return parsed.value.taskType;
  };
}
