// Choosing the relay for a test: Debezium (connectors registered) or the polling relay in-process
// (connectors removed, so each outbox row is published by one relay only). stop() leaves the relay
// set-up as the test found it: connectors removed for polling are registered again, so a shop running
// beside the tests keeps its events flowing.
import { createDb, loadInfra } from '@qtshop/shared/infra';
import { ConnectClient, registerConnector, removeConnector } from '@qtshop/shared/delivery';
import { readConnector } from '@qtshop/shared/tooling';
import { loadRelayConfig } from '../../services/relay/src/config';
import { createRelay, type Relay } from '../../services/relay/src/relay';
import { migrateAll } from '../../scripts/migrate';
import { quiet } from './services';

export type RelayMode = 'debezium' | 'polling';
export type OutboxDb = 'catalog' | 'inventory' | 'orders';

const connectorOf = (db: OutboxDb) => readConnector(`${db}-outbox`);

export interface RelayHandle {
  mode: RelayMode;
  /** The in-process polling relay (polling mode only). */
  relay: Relay | undefined;
  stop(): Promise<void>;
}

export async function useRelay(mode: RelayMode, dbs: OutboxDb[], intervalMs = 100): Promise<RelayHandle> {
  const infra = loadInfra();
  const connect = ConnectClient.of(infra.connect);
  const admin = createDb(infra, 'postgres', { max: 1 });
  let relay: Relay | undefined;
  await migrateAll(dbs, quiet); // a connector's publication needs the outbox table
  const registered = new Set(await connect.list());
  const removed = mode === 'polling' ? dbs.filter((db) => registered.has(connectorOf(db).name)) : [];
  try {
    for (const db of dbs) {
      if (mode === 'debezium') await registerConnector(connect, admin, connectorOf(db));
      else await removeConnector(connect, admin, connectorOf(db));
    }
  } finally {
    await admin.destroy();
  }
  if (mode === 'polling') {
    relay = createRelay(
      { ...loadRelayConfig(), RELAY_PORT: 0, RELAY_MODE: 'polling', OUTBOX_DATABASES: dbs, OUTBOX_POLL_INTERVAL_MS: intervalMs },
      { log: quiet },
    );
    await relay.start();
  }
  return {
    mode,
    relay,
    async stop() {
      await relay?.stop();
      if (removed.length === 0) return;
      const again = createDb(infra, 'postgres', { max: 1 });
      try {
        for (const db of removed) await registerConnector(connect, again, connectorOf(db));
      } finally {
        await again.destroy();
      }
    },
  };
}
