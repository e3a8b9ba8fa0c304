// The relay's settings: one typed schema, a default and a line of doc per key, validated once.
import { env, loadConfig, type ConfigOf } from '@qtshop/shared/platform';
import { TOPICS } from '@qtshop/shared/events';
import { infraSettings, kafkaPrincipalSettings, pgRoleSettings } from '@qtshop/shared/infra';
import { baseSettings } from '@qtshop/shared/service';

export const relaySettings = {
  ...baseSettings,
  ...kafkaPrincipalSettings('relay'),
  ...pgRoleSettings('relay'),
  CONNECT_USERNAME: { ...infraSettings.CONNECT_USERNAME, default: 'relay' },
  RELAY_PORT: { doc: 'HTTP port of the relay (/health, /ready, /metrics)', default: '3010', schema: env.port() },
  RELAY_MODE: {
    doc: 'debezium: Debezium publishes, the relay confirms, repairs what stays undelivered, supervises the connectors and deletes old rows; polling: the relay publishes unsent rows itself',
    default: 'debezium',
    schema: env.oneOf(['debezium', 'polling'] as const),
  },
  OUTBOX_DATABASES: { doc: 'outbox databases the relay serves, comma separated', default: 'catalog,inventory,orders', schema: env.list() },
  OUTBOX_POLL_INTERVAL_MS: {
    doc: "pause after a poll (polling mode) or repair pass (debezium mode) that found nothing more, and between a standby's lock attempts",
    default: '3000',
    schema: env.int(1),
  },
  OUTBOX_TAKEOVER_AFTER_MS: {
    doc: "a standby ends the lock holder's database session when it has been idle this long (a frozen or hung relay; a live one runs a statement every interval): the standby then takes over. At least 3 × OUTBOX_POLL_INTERVAL_MS",
    default: '15000',
    schema: env.int(1000),
  },
  OUTBOX_TRANSACTIONAL_ID_PREFIX: {
    doc: "Kafka transactional id prefix of the relays' publishers (<prefix>.<database>, one per outbox): the relay that takes a database's outbox lock fences every earlier holder, so a frozen relay, resumed, publishes nothing. Unique per shop on a shared Kafka cluster",
    default: 'qtshop-relay',
    schema: env.string(),
  },
  OUTBOX_BATCH_SIZE: { doc: 'rows published per poll at most; a full batch is followed by another poll at once', default: '500', schema: env.int(1) },
  OUTBOX_BATCH_MAX_BYTES: {
    doc: "bytes one send to Kafka carries at most (under the broker's message.max.bytes, 1 MB by default); a single record larger than this is quarantined",
    default: '900000',
    schema: env.int(1024),
  },
  OUTBOX_REPAIR_AFTER_MS: {
    doc: 'debezium mode: a row not seen on Kafka this long after its commit is published by the relay itself (same record; a later Debezium copy is a harmless duplicate)',
    default: '30000',
    schema: env.int(1),
  },
  OUTBOX_RETRY_BACKOFF_MAX_MS: {
    doc: "longest wait between polls that keep failing (the wait doubles from OUTBOX_POLL_INTERVAL_MS): Kafka refusing the relay's records (an ACL, a topic policy, a topic's max.message.bytes below OUTBOX_BATCH_MAX_BYTES, an unknown topic) is an outage, retried until Kafka accepts, never a quarantine",
    default: '15000',
    schema: env.int(1),
  },
  OUTBOX_READY_MAX_AGE_MS: {
    doc: '/ready answers 503 while the oldest undelivered (not quarantined) outbox row is older than this',
    default: '60000',
    schema: env.int(1),
  },
  OUTBOX_RETENTION_MS: {
    doc: 'delivered outbox rows older than this are deleted by the janitor (undelivered and quarantined rows are kept)',
    default: '86400000',
    schema: env.int(1),
  },
  OUTBOX_JANITOR_INTERVAL_MS: { doc: 'pause between janitor runs', default: '60000', schema: env.int(1) },
  RELAY_CONFIRM_GROUP: {
    doc: 'debezium mode: Kafka consumer group with which the relay reads the outbox topics to confirm delivery',
    default: 'qtshop-relay-confirm',
    schema: env.string(),
  },
  RELAY_CONFIRM_TOPICS: {
    doc: 'debezium mode: topics the confirmer reads, comma separated (default: every topic of the event registry)',
    default: '',
    schema: env.list().optional(),
  },
  RELAY_CONFIRM_MIN_BYTES: {
    doc: 'debezium mode: bytes the confirmer waits for per fetch (up to RELAY_CONFIRM_MAX_WAIT_MS): fewer, larger batches cost less CPU and fewer UPDATEs',
    default: '65536',
    schema: env.int(1),
  },
  RELAY_CONFIRM_MAX_WAIT_MS: {
    doc: 'debezium mode: longest wait of a confirmer fetch for RELAY_CONFIRM_MIN_BYTES (confirmation lags by at most this)',
    default: '1000',
    schema: env.int(1),
  },
  RELAY_SUPERVISE_INTERVAL_MS: {
    doc: 'pause between checks of the connectors, replication slots, outbox age, consumer lag and dead-letter topics',
    default: '5000',
    schema: env.int(100),
  },
  RELAY_LAG_GROUPS: {
    doc: "consumer groups whose lag the relay exports (consumer_lag_messages) and npm run status shows, comma separated: the services' groups (in debezium mode RELAY_CONFIRM_GROUP is added)",
    default: 'qtshop-catalog,qtshop-inventory,qtshop-basket,qtshop-order-command,qtshop-order-query',
    schema: env.list(),
  },
  RELAY_DLQ_TOPICS: {
    doc: 'topics whose dead-letter topic (<topic>.dlq) the relay measures (dlq_messages) and npm run status shows, comma separated (default: every topic of the event registry)',
    default: '',
    schema: env.list().optional(),
  },
  CONNECT_RESTART_BACKOFF_MS: {
    doc: 'debezium mode: first wait before restarting a failed connector again; doubles up to CONNECT_RESTART_BACKOFF_MAX_MS',
    default: '5000',
    schema: env.int(1),
  },
  CONNECT_RESTART_BACKOFF_MAX_MS: { doc: 'debezium mode: longest wait between restarts of a failed connector', default: '300000', schema: env.int(1) },
  CONNECT_RESTORE_DRIFT: {
    doc: "debezium mode: the active relay puts a connector's committed file (connect-config/<name>.json) back when its running configuration differs (a change through Connect REST); false: only report the drift (metric, /ready, log)",
    default: 'true',
    schema: env.bool(),
  },
};

export type RelayConfig = ConfigOf<typeof relaySettings>;

export function loadRelayConfig(e: NodeJS.ProcessEnv = process.env): RelayConfig {
  return loadConfig(relaySettings, e);
}

/** The consumer groups whose lag is watched: RELAY_LAG_GROUPS, and the confirmer's own group in debezium mode. */
export function lagGroupsOf(c: RelayConfig): string[] {
  return [...new Set([...c.RELAY_LAG_GROUPS, ...(c.RELAY_MODE === 'debezium' ? [c.RELAY_CONFIRM_GROUP] : [])])];
}

/** The topics whose dead-letter topics are watched. */
export const dlqTopicsOf = (c: RelayConfig): string[] => c.RELAY_DLQ_TOPICS ?? TOPICS;
