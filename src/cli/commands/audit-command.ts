/**
 * `ph-tasks audit`: the audit log (GET /api/audit), newest first — who asked for which change,
 * through the API, an inbound hook or a task document, and how it ended.
 */
import type { Command } from "commander";
import { z } from "zod";
import { ago, table, truncate } from "../format.js";
import { clientFor, printJson } from "./client-options.js";
import { printText } from "../terminal-text.js";

const EntrySchema = z.looseObject({ id: z.string(), at: z.string(), actor: z.string(), via: z.string(), action: z.string(), outcome: z.string(), detail: z.string().nullable() });
const AuditSchema = z.looseObject({ entries: z.array(EntrySchema), next: z.string().nullable() });

export function registerAuditCommand(program: Command): void {
  program
    .command("audit")
    .description("who asked for which change (API requests that are not reads, hook deliveries, run requests, cancels and decisions on task documents), newest first")
    .option("--since <time>", "only since: an ISO date-time or a time ago (2h, 7d)")
    .option("--actor <name>", "only this actor's: a named token's or key's name, API_TOKEN, loopback, hook:<name>")
    .option("--limit <n>", "how many (1-500)", "50")
    .option("--before <id>", "the page after this entry")
    .option("--json", "print JSON")
    .action(async (flags: { since?: string; actor?: string; limit: string; before?: string; json?: boolean }, command: Command) => {
      const query = new URLSearchParams({ limit: flags.limit, ...(flags.since ? { since: flags.since } : {}), ...(flags.actor ? { actor: flags.actor } : {}), ...(flags.before ? { before: flags.before } : {}) });
      const { entries, next } = await clientFor(command).request("GET", `/api/audit?${query.toString()}`, AuditSchema);
      if (flags.json) return printJson({ entries, next });
      const rows = entries.map((e) => [e.id, ago(e.at), truncate(e.actor, 40), e.via, truncate(e.action, 60), e.outcome, truncate(e.detail ?? "", 60)]);
      printText(`${table(["ID", "WHEN", "WHO", "VIA", "WHAT", "OUTCOME", "DETAIL"], rows)}\n${next ? `more: ph-tasks audit --before ${next}\n` : ""}`);
    });
}
