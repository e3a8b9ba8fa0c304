// The relay's settings (STYLE.md: one typed schema, a default and a line of doc per key, validated once).
import { env, infraSettings, loadConfig, loggingSettings, type ConfigOf } from '@qtshop/shared';

export const relaySettings = {
  ...infraSettings,
  ...loggingSettings,
  RELAY_PORT: { doc: 'HTTP port of the relay (/health, /ready, /metrics)', default: '3010', schema: env.port() },
  RELAY_MODE: {
    doc: 'debezium: Debezium publishes and the relay only deletes old outbox rows; polling: the relay publishes unsent rows itself',
    default: 'debezium',
    schema: env.oneOf(['debezium', 'polling'] as const),
  },
  OUTBOX_DATABASES: { doc: 'outbox databases the relay serves, comma separated', default: 'catalog,inventory,orders', schema: env.list() },
  OUTBOX_POLL_INTERVAL_MS: { doc: 'polling mode: pause after a poll that drained the outbox, and between a standby\'s lock attempts', default: '3000', schema: env.int(1) },
  OUTBOX_BATCH_SIZE: { doc: 'polling mode: rows published per poll; a full batch is followed by another poll at once', default: '500', schema: env.int(1) },
  OUTBOX_RETENTION_MS: { doc: 'debezium mode: outbox rows older than this are deleted by the janitor', default: '86400000', schema: env.int(1) },
  OUTBOX_JANITOR_INTERVAL_MS: { doc: 'debezium mode: pause between janitor runs', default: '60000', schema: env.int(1) },
};

export type RelayConfig = ConfigOf<typeof relaySettings>;

export function loadRelayConfig(e: NodeJS.ProcessEnv = process.env): RelayConfig {
  return loadConfig(relaySettings, e);
}
