/**
 * An embedded store moved away (`ph-tasks store copy --move`): its data directory says where to,
 * and no agent runs on it any more. A copy leaves the old store as it was — its pending tasks, its
 * schedules, its webhook deliveries still owed — so an agent started on it again by habit (`npm
 * start` without DATABASE_URL) would run them a second time beside the new store's agents. The
 * mark is a file in the old store's directory; an agent on that data directory with DATABASE_URL
 * (which keeps its documents there) is not concerned.
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";

export const MOVED_FILE = "moved.json";

const MovedSchema = z.object({ to: z.string(), at: z.string(), by: z.string() });
export type MovedStore = z.infer<typeof MovedSchema>;

/** Where the embedded store of data directory `dataDir` was moved, if it was. */
export function movedStore(dataDir: string): (MovedStore & { file: string }) | undefined {
  const file = path.join(dataDir, "store", MOVED_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const mark = MovedSchema.safeParse(parsed);
  // A mark that cannot be read still marks: the store was moved, where to is lost.
  return { ...(mark.success ? mark.data : { to: "(unreadable mark)", at: "?", by: "?" }), file };
}

/** Marks the embedded store of `dataDir` as moved to `to`. */
export function markStoreMoved(dataDir: string, mark: MovedStore): void {
  fs.writeFileSync(path.join(dataDir, "store", MOVED_FILE), `${JSON.stringify(mark, null, 2)}\n`, { mode: 0o600 });
}

/** Why no agent may run on the embedded store of `dataDir` (moved), or undefined. */
export function movedStoreProblem(dataDir: string): string | undefined {
  const moved = movedStore(dataDir);
  if (!moved) return undefined;
  return `the task store in ${path.join(dataDir, "store")} was moved to ${moved.to} at ${moved.at} by ${moved.by} (ph-tasks store copy --move): an agent here would run its tasks and schedules a second time — start the agents with DATABASE_URL=${moved.to} (this TASK_DATA_DIR keeps the documents), or, to run on this old copy anyway, remove ${moved.file}`;
}
