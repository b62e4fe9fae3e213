/** What a rate limit counts: claims of a task type, deliveries to an outbound webhook, or deliveries an inbound hook accepts (key: its id). */
export type RateScope = "type" | "webhook" | "hook";

/** A row of ph_rate_limits, as listed (the starts in the current window counted, not sent). */
export interface RateLimitRow {
  key: string;
  max_starts: number;
  per_ms: number;
  /** Starts in the window ending now. */
  used: number;
  /** When the oldest start in the window leaves it: a start is free again then (null: not full). */
  next_free_at: Date | null;
  reason: string;
  set_at: Date;
}

/** What a reservation of one key took. */
export interface StartsGrant {
  key: string;
  granted: number;
  /** The reservation's time in the key's window, exactly as stored (text: a Date would lose the microseconds). */
  at: string;
  /** The window is full: when its oldest start leaves it (null: room is left). */
  next_free_at: Date | null;
}
