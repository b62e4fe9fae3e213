/** The names people are known by here (identities.ts): an approval's approvers are among them. */
import type { Config } from "../config.js";
import { WriterPolicy } from "./authorized-writers.js";

export function knownPeople(config: Config): string[] {
  return [...new Set([...config.API_USERS.map((user) => user.name), ...new WriterPolicy(config.TASK_AUTHORIZED_WRITERS).names()])];
}
