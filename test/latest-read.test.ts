/**
 * Overlapping reads of the queue's pauses: a read that began before a pause and answers after the
 * read the pause's announcement started must not lift the pause (seen in CI: a paused task ran).
 */
import { describe, expect, it } from "vitest";
import type { PauseStore } from "../src/store/pause-store.js";
import type { PauseRow } from "../src/store/sql/pauses/pause-row.js";
import { QueuePauses } from "../src/tasks/queue-pauses.js";

describe("the queue's pauses read while they change", () => {
  it("an older read that answers last does not undo a newer one", async () => {
    const answers: ((rows: PauseRow[]) => void)[] = [];
    const store = { list: () => new Promise<PauseRow[]>((resolve) => answers.push(resolve)) } as unknown as PauseStore;
    const pauses = new QueuePauses(store);
    const older = pauses.refresh(); // began before the pause was made
    const newer = pauses.refresh(); // began after its announcement
    answers[1]?.([{ task_type: "cli" } as PauseRow]);
    expect(await newer).toBe(true);
    expect(pauses.claimable(["cli", "claude-code"])).toEqual(["claude-code"]);
    answers[0]?.([]);
    expect(await older).toBe(false);
    expect(pauses.claimable(["cli", "claude-code"])).toEqual(["claude-code"]); // still paused
    // A read that began later still applies (the pause lifted).
    const later = pauses.refresh();
    answers[2]?.([]);
    expect(await later).toBe(true);
    expect(pauses.claimable(["cli"])).toEqual(["cli"]);
  });
});
