// The ordering rule of every consumer that keeps state derived from another service's aggregate
// (docs/concepts.md "Events and versions"). Each event carries its aggregate's version after the change; the consumer keeps,
// next to the state it derived, the version that state came from, and applies an event only when the event
// is newer. An older or equal version is skipped as stale: it cannot hold anything the consumer has not
// already seen, because every event carries the whole state the consumer needs (never a delta), which is
// also why a gap (version 3, then 5) applies correctly. The decision is final: held versions only grow, so
// an event found stale stays stale, and the inbox records its id like an applied one.

/** True when an event at `incoming` should replace state derived from `held` (undefined: nothing held yet). */
export function isNewer(incoming: number, held: number | undefined): boolean {
  return held === undefined || incoming > held;
}

/** What a handler returns for an event it skipped because the state it would change is at least as new. */
export interface Stale {
  readonly outcome: 'stale';
  /** The version the consumer's state is at. */
  readonly held: number;
  /** The version the event carried. */
  readonly incoming: number;
}

export const stale = (held: number, incoming: number): Stale => ({ outcome: 'stale', held, incoming });

/**
 * The rule every consumer of another service's aggregate applies, in one place: nothing held yet
 * (`absent`), an event newer than what is held (`newer`), or else stale. Each decision names its own
 * outcomes, e.g. byVersion(held, event.version, { absent: 'create', newer: 'rename' }).
 */
export function byVersion<A, N>(held: number | undefined, incoming: number, outcome: { absent: A; newer: N }): A | N | Stale {
  if (held === undefined) return outcome.absent;
  return isNewer(incoming, held) ? outcome.newer : stale(held, incoming);
}

export const isStale = (x: unknown): x is Stale => typeof x === 'object' && x !== null && (x as { outcome?: unknown }).outcome === 'stale';
