// What a consumer does after a handler attempt failed, and how long it waits (handling.ts). Pure; unit-tested.
//
// A failure that is not the event's own fault must not cost the event: a deploy whose code runs before its
// migration, a table renamed for a few seconds, a lock timeout. So a failing handler is retried in three
// stages, keeping per-key order throughout (nothing behind the event on its partition is applied first):
// 1. in place, `maxAttempts` times with a short backoff (a blip is over in about a second, nothing else waits);
// 2. parked: its partition is paused and the event retried in the background with capped backoff, while the
//    consumer's other partitions and topics keep flowing, until `budgetMs` after its first failure;
// 3. dead-lettered (reason handler_failed), so that a real bug never blocks its partition for good.
// Transient failures (the database away, a serialization conflict: transient.ts) are waited out in place
// for as long as they last and never count: every event fails alike then, and parking would only churn.
// A failure caused by the event's own data (a value PostgreSQL cannot take, a constraint it breaks:
// isEventFault) skips stage 2: waiting cannot fix the event, and its partition must not wait for it.

export interface RetryPolicy {
  /** In-place attempts before the event is parked (or dead-lettered when the budget is 0). */
  maxAttempts: number;
  /** From the first failure, how long a failing event is retried before it is dead-lettered (0: no parking). */
  budgetMs: number;
  /** The in-place backoff: first wait, doubled up to the ceiling. */
  backoff: { initialMs: number; maxMs: number };
  /** The ceiling of a parked event's backoff (and of a refused dead letter's). */
  parkedMaxMs: number;
}

export type RetryDecision = { action: 'retry'; delayMs: number } | { action: 'park' } | { action: 'dead-letter' };

/**
 * After a failed attempt: `failures` counts the non-transient ones so far (this one included), `waits` the
 * in-place waits already made, `elapsedMs` the time since the first failure. Retry here after a delay, park
 * the partition, or dead-letter the event.
 */
export function afterFailure(
  p: RetryPolicy,
  f: { failures: number; waits: number; transient: boolean; elapsedMs: number; eventFault?: boolean },
): RetryDecision {
  const delayMs = backoffDelay(p.backoff.initialMs, p.backoff.maxMs, f.waits);
  if (f.transient || f.failures < p.maxAttempts) return { action: 'retry', delayMs };
  return f.elapsedMs < p.budgetMs && !f.eventFault ? { action: 'park' } : { action: 'dead-letter' };
}

/** A parked event's next attempt: dead-letter once the budget from its first failure is spent. */
export const parkedExpired = (p: RetryPolicy, elapsedMs: number): boolean => elapsedMs >= p.budgetMs;

/** The `n`th wait (0-based) of a backoff that starts at `initialMs` and doubles up to `maxMs`. */
export function backoffDelay(initialMs: number, maxMs: number, n: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, Math.min(n, 30)));
}
