/**
 * When a retryable failure runs again: exponential backoff with "equal jitter" and a cap, unless
 * the executor was told when to come back (a rate limit's retry-after), which wins.
 *
 *   delay(attempt) = d/2 + random(0, d/2),  d = min(cap, base × 2^(attempt−1))
 *
 * Jitter keeps a burst of failures (an API outage) from retrying in lock-step.
 */
export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
}

export function retryDelayMs(policy: RetryPolicy, attempt: number, retryAfterMs?: number, random: () => number = Math.random): number {
  if (retryAfterMs !== undefined) return Math.min(Math.max(0, retryAfterMs), Math.max(policy.maxMs, retryAfterMs));
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}
