// Group membership while a consumer waits: which kafkajs errors mean it lost its partitions, and the
// heartbeats that keep them while a handler attempt or a backoff takes longer than the session timeout.

/** kafkajs errors meaning this member no longer owns its partitions as they were (a rebalance is under way, or it was removed). */
const LOST_MEMBERSHIP = new Set(['REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']);
export const lostMembership = (err: unknown): boolean => LOST_MEMBERSHIP.has((err as { type?: string })?.type ?? '');

/**
 * Runs `work` while heartbeating every `everyMs` (kafkajs sends one only when its heartbeat interval has
 * passed), so that a consumer waiting out an outage (a handler attempt blocked on an unreachable database,
 * or the backoff between attempts) keeps its group membership for as long as it waits. A heartbeat that
 * fails because of a rebalance is rethrown after `work` ends: the partition may have moved, and the
 * message must be left to its next owner rather than retried here. Other heartbeat failures (the broker
 * unreachable) are ignored here; the consumer's own fetch loop meets them after the wait.
 */
export async function withHeartbeats<T>(heartbeat: () => Promise<void>, everyMs: number, work: () => Promise<T>): Promise<{ value: T; lost?: unknown }> {
  let lost: unknown;
  const beat = () =>
    heartbeat().catch((err: unknown) => {
      if (lostMembership(err)) lost ??= err;
    });
  const timer = setInterval(() => void beat(), everyMs);
  try {
    const value = await work();
    return lost === undefined ? { value } : { value, lost };
  } finally {
    clearInterval(timer);
  }
}
