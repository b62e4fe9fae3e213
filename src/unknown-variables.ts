/**
 * Environment variables that look like this agent's settings but are none of them — most often a
 * typo (`TASK_MAX_CONCURENT`), which would otherwise be ignored in silence and leave the default
 * in force. Named at start (a warning) and by `ph-tasks doctor`, with the closest setting's name.
 */
import { VARIABLES } from "./config.js";

/** The prefixes of our settings' names that no other program we know of uses. */
const OURS = /^(TASK_|PH_TASKS_)/;

export interface UnknownVariable {
  name: string;
  /** The known setting closest to it, when it is close enough to be a typo of it. */
  suggestion?: string;
}

export function unknownVariables(env: Record<string, string | undefined>): UnknownVariable[] {
  const known = Object.keys(VARIABLES);
  return Object.keys(env)
    .filter((name) => OURS.test(name) && !known.includes(name))
    .sort()
    .map((name) => {
      const [closest] = known.map((k) => ({ k, d: editDistance(name, k) })).sort((a, b) => a.d - b.d);
      // Up to a third of the name's letters (at most 4) wrong, missing or extra.
      return closest && closest.d <= Math.min(4, Math.ceil(name.length / 3)) ? { name, suggestion: closest.k } : { name };
    });
}

export function describeUnknown(unknown: readonly UnknownVariable[]): string {
  const each = unknown.map((u) => (u.suggestion ? `${u.name} (did you mean ${u.suggestion}?)` : u.name));
  return `not a setting of this agent, ignored: ${each.join(", ")}`;
}

/** Levenshtein distance: letters replaced, added or removed. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
