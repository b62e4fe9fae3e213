import { TaskStore } from "../src/store/task-store.js";
const s = await TaskStore.open({});
await s.db.query(`INSERT INTO ph_task_events (task_id, kind, data) SELECT 'x'||g, 'status', '{}' FROM generate_series(1,200000) g`);
const r = await s.db.query(`EXPLAIN ANALYZE SELECT t.ctid::text AS at, row_to_json(t)::text AS row FROM ph_task_events t WHERE t.ctid > '(500,0)'::tid ORDER BY t.ctid LIMIT 1000`);
console.log(r.rows.map((x: any) => x["QUERY PLAN"]).join("\n"));
let t0 = performance.now();
let after = "(0,0)"; let n = 0;
for (;;) { const b = await s.db.query<{at:string}>(`SELECT t.ctid::text AS at, row_to_json(t)::text AS row FROM ph_task_events t WHERE t.ctid > $1::tid ORDER BY t.ctid LIMIT 1000`, [after]); if (!b.rows.length) break; n += b.rows.length; after = b.rows[b.rows.length-1]!.at; }
console.log("select all", n, performance.now() - t0);
await s.close();
