/**
 * Inbound hooks' rate limits (ph_rate_limits, scope 'hook', key: the hook's id), the same exact
 * sliding window as the task types' and the webhooks', shared by every worker. Only a delivery whose
 * signature is good takes a start — a sender without the secret cannot use up the window — and a
 * start is given back when the delivery makes no new task (a repeat, or a task the body makes
 * invalid): the limit counts the tasks a hook makes.
 */
import type { RateLimitStore } from "../store/rate-limit-store.js";

export type HookAdmission =
  | { admitted: true; giveBack: () => Promise<void> }
  | { admitted: false; retryAfterMs: number; limit: { max: number; perMs: number } };

export class HookRateLimit {
  constructor(private readonly store: RateLimitStore) {}

  /** Takes one start of the hook's window; a hook without a limit is always admitted. */
  async admit(hookId: string): Promise<HookAdmission> {
    const [grant] = await this.store.reserve(new Map([[hookId, 1]]));
    if (!grant) return { admitted: true, giveBack: () => Promise.resolve() };
    if (grant.granted > 0) return { admitted: true, giveBack: () => this.store.giveBack([{ key: hookId, at: grant.at, count: 1 }]) };
    const [limit] = await this.store.list([hookId]);
    const retryAfterMs = Math.max(0, (grant.next_free_at?.getTime() ?? Date.now() + 1000) - Date.now());
    return { admitted: false, retryAfterMs, limit: { max: limit?.max_starts ?? 0, perMs: limit?.per_ms ?? 0 } };
  }
}
