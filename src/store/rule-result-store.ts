/** Rule tasks' ends written back to their documents (migration 033): one interface over sql/rules/. */
import type { Db, Queryable } from "./db.js";
import { insertRuleResults } from "./sql/rules/insert-rule-results.js";
import { selectUnwrittenRuleResults } from "./sql/rules/select-unwritten-rule-results.js";
import { takeRuleResult } from "./sql/rules/take-rule-result.js";

export class RuleResultStore {
  constructor(readonly db: Db) {}

  /** In the transaction of the tasks (`tx`). */
  insert(tx: Queryable, taskIds: readonly string[]): Promise<void> {
    return insertRuleResults(tx, taskIds);
  }

  /** True for the one caller that is to write this end of the task back to its document. */
  take(taskId: string, status: string): Promise<boolean> {
    return takeRuleResult(this.db, taskId, status);
  }

  /** Rule tasks ended without their end taken for writing back. */
  unwritten(limit: number): Promise<string[]> {
    return selectUnwrittenRuleResults(this.db, limit);
  }
}
