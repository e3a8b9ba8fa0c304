// The plugins the outbox connectors need on a Kafka Connect worker: the stack waits for them before it
// calls Connect ready, and test/stack/connect.int.test.ts checks their versions.
import type { ConnectClient } from '../delivery/connect';

export const DEBEZIUM_CONNECTOR = 'io.debezium.connector.postgresql.PostgresConnector';
export const EVENT_ROUTER = 'io.debezium.transforms.outbox.EventRouter';

/** True when the worker lists the Debezium PostgreSQL connector and the outbox EventRouter transform. */
export async function hasOutboxPlugins(connect: ConnectClient): Promise<boolean> {
  const classes = (await connect.plugins()).map((p) => p.class);
  return classes.includes(DEBEZIUM_CONNECTOR) && classes.includes(EVENT_ROUTER);
}
