/**
 * For tests that check how the store reads, not only what: record the statements some work sends,
 * and explain them. A read whose cost grows with the retained history shows in its plan long before
 * it shows in a timing (which a test must not assert anyway).
 */
import type { Db, Queryable } from "../../src/store/db.js";

export interface Statement {
  sql: string;
  params: readonly unknown[];
}

/** A plan node of EXPLAIN (FORMAT JSON). */
export type PlanNode = Record<string, unknown> & { Plans?: PlanNode[] };

/**
 * Runs `act` with every statement sent to `db` recorded — those of its transactions too — each text
 * once per parameter list, in the order first sent.
 */
export async function recordStatements(db: Db, act: () => Promise<unknown>): Promise<Statement[]> {
  const seen = new Map<string, Statement>();
  const record = (sql: string, params: readonly unknown[]) => void seen.set(`${JSON.stringify(params)}\u0000${sql}`, { sql, params });
  const target = db as { query: Queryable["query"]; transaction: Db["transaction"] };
  const query = target.query;
  const transaction = target.transaction.bind(db);
  target.query = (sql, params = []) => {
    record(sql, params);
    return query(sql, params);
  };
  target.transaction = (fn) =>
    transaction((tx) =>
      fn({
        query: (sql, params = []) => {
          record(sql, params);
          return tx.query(sql, params);
        },
      }),
    );
  try {
    await act();
  } finally {
    target.query = query;
    target.transaction = transaction;
  }
  return [...seen.values()];
}

/**
 * The plan of one statement. `seqScanOff`: sequential scans disabled, so that one left in the plan
 * means no index could serve the read. `analyze`: run it, with the actual row counts.
 */
export async function explain(db: Db, { sql, params }: Statement, options: { seqScanOff?: boolean; analyze?: boolean } = {}): Promise<PlanNode> {
  const plan = await db.transaction(async (tx) => {
    if (options.seqScanOff) await tx.query("SET LOCAL enable_seqscan = off");
    return (await tx.query<{ "QUERY PLAN": unknown }>(`EXPLAIN (${options.analyze ? "ANALYZE, " : ""}FORMAT JSON) ${sql}`, params)).rows[0]!["QUERY PLAN"];
  });
  // node-postgres parses the JSON; PGlite hands it over as text.
  const root = (typeof plan === "string" ? JSON.parse(plan) : plan) as [{ Plan: PlanNode }];
  return root[0].Plan;
}

/** Every node of a plan, the root first. */
export function planNodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(planNodes)];
}

/** A statement's text on one line, cut short, for a failure message. */
export const brief = (sql: string, length = 120) => sql.replace(/\s+/g, " ").trim().slice(0, length);

/** Rows of `table` a plan run with EXPLAIN ANALYZE read: returned plus removed by a filter, over every loop. */
export const rowsRead = (plan: PlanNode, table: string) =>
  planNodes(plan)
    .filter((n) => n["Relation Name"] === table)
    .reduce((sum, n) => sum + (Number(n["Actual Rows"]) + Number(n["Rows Removed by Filter"] ?? 0)) * Number(n["Actual Loops"] ?? 1), 0);
