// How a consumer deduplicates events: by event id (the UUID id header decodeEvent requires). The inbox
// records every id it processed and runs the handler only for an id it has not seen; a redelivered event
// is a 'duplicate' and changes nothing. PostgreSQL (pg.ts) inserts the id in the handler's own transaction,
// into processed_events (migration: tooling/inbox-table.ts); MongoDB (mongo.ts) records it after the
// handler's idempotent effects. Ids are kept longer than Kafka can redeliver, then pruned (retention.ts).
import type { Stale } from '../../events/versions';
import type { BatchLock, ConsumedEvent, HandlerResult } from '../consumer/event';

/** What the inbox did with an event: ran the handler (which applied it or found it stale), or found its id processed. */
export type InboxResult = 'applied' | 'duplicate' | Stale;

/** Runs `fn` at most once per event id; 'duplicate' when the id was already processed. */
export interface Inbox<Tx> {
  process(event: ConsumedEvent, fn: (tx: Tx) => Promise<HandlerResult>): Promise<InboxResult>;
  /**
   * Runs several events' handlers, in order, with one inbox write for all of them; results in the items'
   * order. When it throws, the runner takes the events one by one: the PostgreSQL inbox commits all of them
   * or none (one transaction), the MongoDB inbox records those applied before the failure. An inbox without
   * it processes every event on its own. `lock`, when given, runs first in the batch's transaction with
   * the events it will apply (not the duplicates); an inbox without transactions ignores it.
   */
  processBatch?(items: ReadonlyArray<{ event: ConsumedEvent; fn: (tx: Tx) => Promise<HandlerResult> }>, lock?: BatchLock<Tx>): Promise<InboxResult[]>;
}

/** The PostgreSQL inbox table: one row per processed event id (its migration is tooling/inbox-table.ts). */
export const INBOX_TABLE = 'processed_events';

/**
 * An inbox row: the event id (the dedup key) and, for audits, its type, aggregate (the Kafka key), the
 * version it carried and what the handler did (applied, or stale: see inboxAuditMigration).
 */
export function inboxRecord(event: ConsumedEvent, outcome: 'applied' | 'stale') {
  return { event_id: event.id, event_type: event.type, aggregate_id: event.key, version: event.payload.version, outcome };
}
