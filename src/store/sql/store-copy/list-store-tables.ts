import type { Queryable } from "../../db.js";

/** A table of the task store as the catalog describes it, for a copy (store-copy.ts). */
export interface StoreTable {
  name: string;
  /** Its columns, in order. */
  columns: string[];
  /** Tables its foreign keys point at (copied before it). */
  parents: string[];
  /** Its columns that draw from a sequence (bigserial, identity): set past the copied values. */
  sequenced: string[];
  /** It has triggers of ours (ph_tasks: webhooks, dependents, pipelines): off while rows are copied in. */
  hasTriggers: boolean;
  /** It has a bytea column (kept conversations): copied a few rows at a time. */
  hasBytes: boolean;
}

/** Every base table of the store's schema (the connection's first schema), with what a copy needs to know of it, by name. */
export async function listStoreTables(db: Queryable): Promise<StoreTable[]> {
  const { rows } = await db.query<{ name: string; columns: string[]; parents: string[] | null; sequenced: string[] | null; has_triggers: boolean; has_bytes: boolean }>(
    `SELECT c.relname AS name,
            (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
            (SELECT array_agg(DISTINCT p.relname::text) FROM pg_constraint f JOIN pg_class p ON p.oid = f.confrelid
              WHERE f.conrelid = c.oid AND f.contype = 'f' AND f.confrelid <> c.oid) AS parents,
            (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                AND pg_get_serial_sequence(quote_ident(c.relname), a.attname) IS NOT NULL) AS sequenced,
            EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal) AS has_triggers,
            EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.atttypid = 'bytea'::regtype) AS has_bytes
       FROM pg_class c
      WHERE c.relnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = current_schema()) AND c.relkind IN ('r', 'p')
      ORDER BY c.relname`,
  );
  return rows.map((r) => ({ name: r.name, columns: r.columns, parents: r.parents ?? [], sequenced: r.sequenced ?? [], hasTriggers: r.has_triggers, hasBytes: r.has_bytes }));
}
