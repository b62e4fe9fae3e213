/**
 * `budget.changed`: a webhook that asks is told once of each budget set, changed or removed while
 * the agents run — the daily budget's and a drive's — with who changed it and the budget as it
 * now is; one that does not ask hears nothing of it. On PGlite and PostgreSQL, a real sender and
 * receiver.
 */
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../src/logger.js";
import { DailyBudgetService } from "../src/queue/daily-budget-service.js";
import { HolderBudgetService } from "../src/queue/holder-budget-service.js";
import { SpendStore } from "../src/store/spend-store.js";
import { DRIVE_HOLDER, PERSON_HOLDER } from "../src/tasks/budget-holders.js";
import { HolderBudgets } from "../src/tasks/holder-budget.js";
import { sleep, waitFor } from "./support/process.js";
import { BACKENDS } from "./support/stores.js";
import { openWithReceiver } from "./support/webhook-receiver.js";

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`budget.changed, on ${backend.name}`, () => {
    let cleanup: () => Promise<void> = () => Promise.resolve();
    afterEach(() => cleanup());

    it("is told once per change, the daily budget's, a drive's and a person's, saying who and what holds now", async () => {
      const opened = await openWithReceiver(backend, "changes", ["budget.changed"]);
      cleanup = opened.cleanup;
      const { received } = opened.receiver;
      const spend = new SpendStore(opened.store.db);
      const daily = new DailyBudgetService(spend, 5, silentLogger());
      const drives = new HolderBudgetService(spend, new HolderBudgets(DRIVE_HOLDER, spend, 1), silentLogger());
      const people = new HolderBudgetService(spend, new HolderBudgets(PERSON_HOLDER, spend, 2), silentLogger());

      await daily.set({ usdPerDay: 20, reason: "launch week" }, "alice");
      await drives.set("team", { usdPerDay: 3 }, "bob");
      await daily.remove("carol");
      await drives.remove("team", "API_TOKEN");
      expect(await drives.remove("team", "API_TOKEN")).toBeUndefined(); // nothing removed: nothing told
      await people.set("intern", { usdPerDay: 0.5, reason: "first week" }, "alice");
      await expect(people.set("alice", { usdPerDay: 100 }, "alice")).rejects.toThrow(/may not change their own/); // refused: nothing told
      await waitFor(() => received.length >= 5 || undefined, 10_000, "the five budget.changed deliveries");
      await sleep(500);
      const told = received.map((r) => ({ event: r.json.event, ...(r.json as unknown as { budget: Record<string, unknown> }).budget }));
      expect(told).toHaveLength(5);
      expect(told[4]).toMatchObject({ kind: "person", change: "set", by: "alice", person: "intern", usdPerDay: 0.5, reason: "first week", setting: "set by alice (ph-tasks budget)", settingsUsd: 2 });
      expect(told[0]).toMatchObject({ event: "budget.changed", kind: "daily", change: "set", by: "alice", usdPerDay: 20, setting: "set by alice (ph-tasks budget)", reason: "launch week", settingsUsd: 5 });
      expect(told[1]).toMatchObject({ event: "budget.changed", kind: "drive", change: "set", by: "bob", driveId: "team", usdPerDay: 3, setting: "set by bob (ph-tasks budget)", settingsUsd: 1 });
      expect(told[2]).toMatchObject({ kind: "daily", change: "removed", by: "carol", usdPerDay: 5, setting: "TASK_BUDGET_USD_PER_DAY", setBy: null });
      expect(told[3]).toMatchObject({ kind: "drive", change: "removed", by: "API_TOKEN", driveId: "team", usdPerDay: 1, setting: "TASK_BUDGET_USD_PER_DRIVE_PER_DAY" });
    });
  });
}
