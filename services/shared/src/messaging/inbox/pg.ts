// The PostgreSQL inbox: processed_events rows written in the handler's own transaction.
import type { Knex } from 'knex';
import { inTransaction } from '../../infra/db';
import { INBOX_TABLE, inboxRecord, type Inbox, type InboxResult } from './inbox';

/**
 * The PostgreSQL inbox: the handler and the processed_events insert share one transaction. A batch is one
 * transaction: one insert of every event id (those already there are duplicates), then each new event's
 * handler in order; an id twice in one batch runs once. Events found stale are marked so in one update.
 */
export function pgInbox(db: Knex): Inbox<Knex.Transaction> {
  return {
    processBatch: (items, lock) =>
      inTransaction(db, async (trx) => {
        // The transaction's rows share its now(); each is stamped a microsecond later than the one before it,
        // so processed_at still orders the events as they were applied (the chaos suite's version order).
        const rows = await trx(INBOX_TABLE)
          .insert(items.map((i, n) => ({ ...inboxRecord(i.event, 'applied'), processed_at: trx.raw('now() + make_interval(secs => ?)', [n / 1e6]) })))
          .onConflict('event_id')
          .ignore()
          .returning<Array<{ event_id: string }>>('event_id');
        const claimed = new Set(rows.map((r) => r.event_id));
        if (lock && claimed.size)
          await lock(
            trx,
            items.filter((i) => claimed.has(i.event.id)).map((i) => i.event),
          );
        const results: InboxResult[] = [];
        const stale: string[] = [];
        for (const { event, fn } of items) {
          if (!claimed.delete(event.id)) {
            results.push('duplicate');
            continue;
          }
          const result = await fn(trx);
          results.push(result === undefined ? 'applied' : result);
          if (result !== undefined) stale.push(event.id);
        }
        if (stale.length) await trx(INBOX_TABLE).whereIn('event_id', stale).update({ outcome: 'stale' });
        return results;
      }),
    process: (event, fn) =>
      inTransaction(db, async (trx) => {
        const inserted = await trx(INBOX_TABLE).insert(inboxRecord(event, 'applied')).onConflict('event_id').ignore().returning('event_id');
        if (inserted.length === 0) return 'duplicate' as const;
        const result = await fn(trx);
        if (result === undefined) return 'applied' as const;
        await trx(INBOX_TABLE).where({ event_id: event.id }).update({ outcome: 'stale' });
        return result;
      }),
  };
}
