// The MongoDB inbox (basket): no transactions, sessions or change streams, so that the same code runs on
// a real MongoDB 7 and on mongo-java-server. Effects must be naturally idempotent (set-to-value, delete);
// processed ids are recorded after the effect under a unique _id, so a redelivery is detected and skipped,
// and a crash between effect and record only repeats an idempotent effect. A stale event (the handler
// changed nothing because the state is newer) is recorded too: held versions only grow, so it stays stale.
//
// The mongodb driver is pinned to 6.x: mongo-java-server 1.47 reports wire version 8, which 7.6+ refuses.
import type { Db } from 'mongodb';
import type { ConsumedEvent, HandlerResult } from '../consumer/event';
import type { Inbox, InboxResult } from './inbox';

export const MONGO_INBOX = 'processed_events';

interface Processed {
  _id: string;
  type: string;
  /** For audits, as in the PostgreSQL inbox: the event's aggregate (Kafka key), its version, what the handler did. */
  aggregateId: string | null;
  version: number;
  outcome: 'applied' | 'stale';
  processedAt: Date;
}

/** True for a duplicate-key error, or a bulk write whose every error is one (ids recorded meanwhile by another delivery). */
const onlyDuplicates = (err: unknown): boolean => {
  const e = err as { code?: number; writeErrors?: Array<{ code?: number }> | { code?: number } };
  if (e.writeErrors) return (Array.isArray(e.writeErrors) ? e.writeErrors : [e.writeErrors]).every((w) => w.code === 11000);
  return e.code === 11000;
};

export function mongoInbox(db: Db): Inbox<Db> {
  const col = db.collection<Processed>(MONGO_INBOX);
  // processedAt: when the handler finished, a millisecond after the record before it at least, so that it
  // orders this process's records as they were applied (a batch applies several in one millisecond).
  let last = 0;
  const recordOf = (event: ConsumedEvent, result: HandlerResult): Processed => {
    last = Math.max(Date.now(), last + 1);
    return {
      _id: event.id,
      type: event.type,
      aggregateId: event.key,
      version: event.payload.version,
      outcome: result === undefined ? 'applied' : 'stale',
      processedAt: new Date(last),
    };
  };
  return {
    // A batch: one lookup of every id, the new events' handlers in order, one insert of their records. With
    // no transactions, a handler that throws leaves the effects before it applied; their records are
    // written before the error goes up, so the one-by-one retry finds them done.
    async processBatch(items) {
      const known = new Set((await col.find({ _id: { $in: items.map((i) => i.event.id) } }, { projection: { _id: 1 } }).toArray()).map((d) => d._id));
      const results: InboxResult[] = [];
      const records: Processed[] = [];
      try {
        for (const { event, fn } of items) {
          if (known.has(event.id)) {
            results.push('duplicate');
            continue;
          }
          known.add(event.id);
          const result = await fn(db);
          results.push(result ?? 'applied');
          records.push(recordOf(event, result));
        }
      } finally {
        if (records.length)
          await col.insertMany(records, { ordered: false }).catch((err: unknown) => {
            if (!onlyDuplicates(err)) throw err;
          });
      }
      return results;
    },
    async process(event, fn) {
      if (await col.findOne({ _id: event.id }, { projection: { _id: 1 } })) return 'duplicate';
      const result = await fn(db);
      try {
        await col.insertOne(recordOf(event, result));
      } catch (err) {
        // Recorded meanwhile by another delivery of the same event: its effect is the same one.
        if (!onlyDuplicates(err)) throw err;
      }
      return result ?? 'applied';
    },
  };
}
