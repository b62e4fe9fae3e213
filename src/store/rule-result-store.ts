/** Rule tasks' ends written back to their documents (migrations 033, 034): one interface over sql/rules/. */
import type { Db, Queryable } from "./db.js";
import { insertRuleResults } from "./sql/rules/insert-rule-results.js";
import { selectUnwrittenRuleResults } from "./sql/rules/select-unwritten-rule-results.js";
import { markRuleResultWritten } from "./sql/rules/mark-rule-result-written.js";
import { takeRuleResult } from "./sql/rules/take-rule-result.js";
import type { UnwrittenEnds } from "./sql/write-back-sql.js";

export class RuleResultStore {
  constructor(readonly db: Db) {}

  /** In the transaction of the tasks (`tx`). */
  insert(tx: Queryable, taskIds: readonly string[]): Promise<void> {
    return insertRuleResults(tx, taskIds);
  }

  /** The end's mark for the one caller that is to write this end back (held for `leaseMs`); undefined for any other. */
  take(taskId: string, status: string, leaseMs: number): Promise<string | undefined> {
    return takeRuleResult(this.db, taskId, status, leaseMs);
  }

  /** This end is written back (or needs no writing); with `mark`, only while it is the end taken. */
  markWritten(taskId: string, status: string, mark?: string): Promise<void> {
    return markRuleResultWritten(this.db, taskId, status, mark);
  }

  /** Rule tasks ended without their end written back, and no writer holding it; with `since`, those that ended since then or whose writer's lease ran out. */
  unwritten(limit: number, since?: Date): Promise<UnwrittenEnds> {
    return selectUnwrittenRuleResults(this.db, limit, since);
  }
}
