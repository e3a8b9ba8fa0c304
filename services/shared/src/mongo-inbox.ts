// The MongoDB inbox (basket): no transactions, sessions or change streams, so that the same code runs on
// a real MongoDB 7 and on mongo-java-server. Effects must be naturally idempotent (set-to-value, delete);
// processed ids are recorded after the effect under a unique _id, so a redelivery is detected and skipped,
// and a crash between effect and record only repeats an idempotent effect. A stale event (the handler
// changed nothing because the state is newer) is recorded too: held versions only grow, so it stays stale.
//
// The mongodb driver is pinned to 6.x: mongo-java-server 1.47 reports wire version 8, which 7.6+ refuses.
import type { Db } from 'mongodb';
import type { Inbox } from './consumer';

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

export function mongoInbox(db: Db): Inbox<Db> {
  const col = db.collection<Processed>(MONGO_INBOX);
  return {
    async process(event, fn) {
      if (await col.findOne({ _id: event.id }, { projection: { _id: 1 } })) return 'duplicate';
      const result = await fn(db);
      try {
        const outcome = result === undefined ? 'applied' : 'stale';
        await col.insertOne({ _id: event.id, type: event.type, aggregateId: event.key, version: event.payload.version, outcome, processedAt: new Date() });
      } catch (err) {
        // Recorded meanwhile by another delivery of the same event: its effect is the same one.
        if ((err as { code?: number }).code !== 11000) throw err;
      }
      return result ?? 'applied';
    },
  };
}
