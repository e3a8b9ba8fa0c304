// Where a service keeps its state, as startService needs it: the handle its routes and handlers use, the
// inbox its consumer applies events through, a readiness check, the inbox's retention and how to close.
// PostgreSQL (catalog, inventory, order-command, order-query) or MongoDB (basket).
import type { Knex } from 'knex';
import { MongoClient, type Db } from 'mongodb';
import { createDb } from '../infra/db';
import { mongoClientOptions, type Infra } from '../infra/addresses';
import type { Inbox } from '../messaging/inbox/inbox';
import { mongoInbox } from '../messaging/inbox/mongo';
import { pgInbox } from '../messaging/inbox/pg';
import { mongoInboxRetention, pgInboxRetention, type RetentionTarget } from '../messaging/inbox/retention';

/** An opened store: `db` for the service's routes and handlers, `Tx` what its handlers get from the inbox. */
export interface OpenStore<D, Tx> {
  db: D;
  inbox: Inbox<Tx>;
  /** /ready's `database` check. */
  ping(): Promise<unknown>;
  /** The inbox's retention target (processed event ids kept for `retentionMs`, never below the floor). */
  inboxRetention(retentionMs: number, floorMs: () => Promise<number>): RetentionTarget;
  close(): Promise<void>;
}

export interface Store<D, Tx> {
  open(infra: Infra): Promise<OpenStore<D, Tx>>;
}

/** A PostgreSQL database of the service's own; handlers run in the inbox's transaction. */
export const pgStore = (database: string): Store<Knex, Knex.Transaction> => ({
  async open(infra) {
    const db = createDb(infra, database);
    return {
      db,
      inbox: pgInbox(db),
      ping: () => db.raw('select 1'),
      inboxRetention: (retentionMs, floorMs) => pgInboxRetention(db, retentionMs, floorMs),
      close: () => db.destroy(),
    };
  },
});

/** A MongoDB client, not yet connected, with its time bounds (MONGO_OPERATION_TIMEOUT_MS). */
export const mongoClient = (mongo: Infra['mongo']): MongoClient => new MongoClient(mongo.url, mongoClientOptions(mongo));

/** A MongoDB database of the service's own, prepared by `prepare` (its indexes) once connected. */
export const mongoStore = (database: string, prepare: (db: Db) => Promise<void> = async () => undefined): Store<Db, Db> => ({
  async open(infra) {
    const client = mongoClient(infra.mongo);
    try {
      await client.connect();
      const db = client.db(database);
      await prepare(db);
      return {
        db,
        inbox: mongoInbox(db),
        ping: () => db.command({ ping: 1 }),
        inboxRetention: (retentionMs, floorMs) => mongoInboxRetention(db, retentionMs, floorMs),
        close: () => client.close(),
      };
    } catch (err) {
      await client.close().catch(() => undefined);
      throw err;
    }
  },
});
