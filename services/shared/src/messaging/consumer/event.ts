// What a handler sees and returns: the event as consumed, its result, the handlers a service registers,
// and Unprocessable, which a handler throws for an event it can never apply.
import type { EventPayload, EventType } from '../../events/registry';
import type { Stale } from '../../events/versions';

/**
 * Thrown by a handler for an event it can never apply (e.g. an outcome for an order that does not exist):
 * dead-lettered at once with reason `unprocessable`, without retries that could not help.
 */
export class Unprocessable extends Error {
  override name = 'Unprocessable';
}

export interface ConsumedEvent<T extends EventType = EventType> {
  id: string;
  type: T;
  key: string | null;
  payload: EventPayload<T>;
  topic: string;
  partition: number;
  offset: string;
}

/** A handler returns nothing when it applied the event, or stale() when it skipped it as older than its state. */
export type HandlerResult = void | Stale;

export type Handlers<Tx> = { [T in EventType]?: (event: ConsumedEvent<T>, tx: Tx) => Promise<HandlerResult> };

/**
 * Takes, in one statement and in one order, the locks a batch's handlers will take one event at a time, in
 * the batch's transaction before they run (the PostgreSQL inbox; given the events the batch will apply).
 * Two batches whose events lock the same rows in different orders (inventory: orders of crossing
 * products, on two partitions) would otherwise deadlock, and a deadlock costs PostgreSQL's deadlock_timeout
 * and the batch (its events are taken again one by one).
 */
export type BatchLock<Tx> = (tx: Tx, events: ConsumedEvent[]) => Promise<void>;
