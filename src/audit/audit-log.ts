/**
 * The audit log (migration 037): who changed what, when — each API request that is not a read,
 * each accepted inbound hook delivery, each run request, cancel and decision on a task document.
 * Entries are written in batches a moment after they happen (one statement for all of them), so
 * a request never waits for its entry; a batch that cannot be written is tried again with the
 * next (at most MAX_PENDING kept meanwhile). Entries older than the retention are removed hourly.
 */
import type { Logger } from "../logger.js";
import type { AuditStore } from "../store/audit-store.js";
import type { AuditEntry } from "../store/sql/audit/audit-row.js";

const FLUSH_MS = 200;
const CLEANUP_EVERY_MS = 3_600_000;
/** Entries kept while the store cannot take them; beyond, the oldest are dropped (and that is logged). */
const MAX_PENDING = 10_000;
/** Bounds every text an entry holds: they come from requests and documents. */
const MAX_TEXT = 500;

export class AuditLog {
  private pending: (AuditEntry & { at: Date })[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private cleanupTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: AuditStore,
    private readonly workerId: string,
    private readonly logger: Logger,
    private readonly retentionMs: number,
  ) {}

  record(entry: AuditEntry): void {
    const cut = (text: string | null | undefined) => (typeof text === "string" ? text.slice(0, MAX_TEXT) : null);
    this.pending.push({ actor: cut(entry.actor) ?? "", via: entry.via, action: cut(entry.action) ?? "", outcome: cut(entry.outcome) ?? "", detail: cut(entry.detail), remote: cut(entry.remote), at: new Date() });
    if (this.pending.length > MAX_PENDING) {
      const dropped = this.pending.splice(0, this.pending.length - MAX_PENDING);
      this.logger.warn({ dropped: dropped.length }, "the audit log could not be written for a while; its oldest unwritten entries were dropped");
    }
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Writes what was recorded so far (the tests, and stop, wait for it). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.flushing) await this.flushing;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.flushing = this.store
      .append(this.workerId, batch)
      .catch((error: unknown) => {
        this.logger.warn({ err: error, entries: batch.length }, "writing the audit log failed; tried again with the next entries");
        this.pending = [...batch, ...this.pending];
      })
      .finally(() => (this.flushing = undefined));
    await this.flushing;
  }

  /** Removes old entries now and every hour. */
  start(): void {
    const clean = () =>
      void this.store
        .deleteOlderThan(this.retentionMs)
        .then((removed) => (removed > 0 ? this.logger.info({ removed }, "removed audit log entries past TASK_AUDIT_RETENTION") : undefined))
        .catch((error: unknown) => this.logger.warn({ err: error }, "removing old audit log entries failed; tried again in an hour"));
    clean();
    this.cleanupTimer = setInterval(clean, CLEANUP_EVERY_MS);
    this.cleanupTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.cleanupTimer);
    await this.flush();
  }
}
