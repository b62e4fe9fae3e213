/** A row of ph_rate_limits, as listed (the starts in the current window counted, not sent). */
export interface RateLimitRow {
  task_type: string;
  max_starts: number;
  per_ms: number;
  /** Claims of the type in the window ending now. */
  used: number;
  /** When the oldest start in the window leaves it: a start is free again then (null: not full). */
  next_free_at: Date | null;
  reason: string;
  set_at: Date;
}

/** What a reservation of one type took. */
export interface StartsGrant {
  task_type: string;
  granted: number;
  /** The reservation's time in the type's window, exactly as stored (text: a Date would lose the microseconds). */
  at: string;
  /** The window is full: when its oldest start leaves it (null: room is left). */
  next_free_at: Date | null;
}
