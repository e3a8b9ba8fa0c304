// The relay's Prometheus metrics, one set per registry, labelled by outbox database (the pipeline's
// consumer lag and dead-letter depth by group, topic and partition). The benchmark reads polls (SELECTs
// issued), rows published and batches from here or from the workers' stats() getters.
import { Counter, Gauge, type Registry } from 'prom-client';

export class RelayMetrics {
  readonly polls: Counter<'database'>;
  readonly rows: Counter<'database'>;
  readonly batches: Counter<'database'>;
  readonly errors: Counter<'database'>;
  readonly lastErrorTime: Gauge<'database'>;
  readonly active: Gauge<'database'>;
  readonly takeovers: Counter<'database'>;
  readonly fenced: Counter<'database'>;
  readonly deleted: Counter<'database'>;
  readonly repaired: Counter<'database'>;
  readonly quarantined: Counter<'database'>;
  readonly refusals: Counter<'database' | 'reason'>;
  readonly refusing: Gauge<'database' | 'reason'>;
  readonly confirmed: Counter<'database'>;
  readonly duplicates: Counter<'database'>;
  readonly misrouted: Counter<'database' | 'topic'>;
  readonly oldestUnconfirmedAge: Gauge<'database'>;
  readonly quarantinedRows: Gauge<'database'>;
  readonly connectorState: Gauge<'database' | 'connector' | 'state'>;
  readonly connectorRestarts: Counter<'database' | 'connector'>;
  readonly connectorRecreated: Counter<'database' | 'connector'>;
  readonly connectorDrift: Gauge<'database' | 'connector'>;
  readonly connectorRestores: Counter<'database' | 'connector'>;
  readonly slotRetainedWal: Gauge<'database' | 'slot'>;
  readonly slotActive: Gauge<'database' | 'slot'>;
  readonly slotFailoverEnabled: Counter<'database' | 'slot'>;
  readonly unconfirmedRows: Gauge<'database'>;
  readonly consumerLag: Gauge<'group' | 'topic' | 'partition'>;
  readonly groupMembers: Gauge<'group'>;
  readonly dlqMessages: Gauge<'topic'>;
  readonly dlqPending: Gauge<'topic'>;

  constructor(registry: Registry) {
    const registers = [registry];
    const labelNames = ['database'] as const;
    this.polls = new Counter({ name: 'relay_polls_total', help: 'outbox polls (SELECTs of unsent rows) issued', labelNames, registers });
    this.rows = new Counter({
      name: 'relay_rows_published_total',
      help: 'outbox rows published to Kafka by the relay (polling, or repair in debezium mode)',
      labelNames,
      registers,
    });
    this.batches = new Counter({ name: 'relay_batches_total', help: 'non-empty batches published to Kafka', labelNames, registers });
    this.errors = new Counter({ name: 'relay_errors_total', help: 'failed polls, confirmations, supervision or janitor runs', labelNames, registers });
    this.lastErrorTime = new Gauge({ name: 'relay_last_error_timestamp_seconds', help: 'time of the last failure', labelNames, registers });
    this.active = new Gauge({ name: 'relay_active', help: '1 when this relay holds the outbox lock of the database, 0 when standby', labelNames, registers });
    this.takeovers = new Counter({
      name: 'relay_takeovers_total',
      help: 'lock holder sessions this standby ended because they had been idle longer than OUTBOX_TAKEOVER_AFTER_MS (a frozen or hung relay)',
      labelNames,
      registers,
    });
    this.fenced = new Counter({
      name: 'relay_fenced_total',
      help: "sends Kafka refused because another relay had taken this database's outbox since (transactional id fenced): nothing of them was published",
      labelNames,
      registers,
    });
    this.deleted = new Counter({
      name: 'relay_janitor_deleted_total',
      help: 'delivered outbox rows deleted by the janitor after the retention',
      labelNames,
      registers,
    });
    this.repaired = new Counter({
      name: 'relay_repaired_total',
      help: 'debezium mode: rows the relay published because Debezium had not delivered them within OUTBOX_REPAIR_AFTER_MS (each may also arrive from Debezium later: a harmless duplicate)',
      labelNames,
      registers,
    });
    this.refusals = new Counter({
      name: 'relay_send_refusals_total',
      help: "sends Kafka refused (authorization, policy, a topic's size limit, unknown topic, not enough replicas): retried with backoff, nothing quarantined",
      labelNames: ['database', 'reason'],
      registers,
    });
    this.refusing = new Gauge({
      name: 'relay_kafka_refusing',
      help: "1 while Kafka refuses this relay's records for the database (reason: the Kafka error), 0 once it accepts them again",
      labelNames: ['database', 'reason'],
      registers,
    });
    this.quarantined = new Counter({
      name: 'relay_quarantined_total',
      help: 'outbox rows quarantined because they can never be published as they are',
      labelNames,
      registers,
    });
    this.confirmed = new Counter({
      name: 'relay_confirmed_total',
      help: 'debezium mode: outbox rows confirmed by seeing their record on Kafka',
      labelNames,
      registers,
    });
    this.duplicates = new Counter({
      name: 'relay_duplicate_records_total',
      help: 'debezium mode: records seen on Kafka for a row already confirmed (a repair and Debezium both delivered it, or re-read after a relay restart)',
      labelNames,
      registers,
    });
    this.misrouted = new Counter({
      name: 'relay_misrouted_records_total',
      help: "debezium mode: records of an outbox row seen on a topic other than the row's own or with a key other than its aggregate id (topic: where it was seen); they confirm nothing, and the repair publishes the row to its own topic",
      labelNames: ['database', 'topic'],
      registers,
    });
    this.oldestUnconfirmedAge = new Gauge({
      name: 'relay_oldest_unconfirmed_age_seconds',
      help: 'age of the oldest outbox row not yet on Kafka (quarantined rows excluded); 0 when none',
      labelNames,
      registers,
    });
    this.quarantinedRows = new Gauge({ name: 'relay_quarantined_rows', help: 'outbox rows in quarantine now', labelNames, registers });
    this.connectorState = new Gauge({
      name: 'relay_connector_state',
      help: "1 for the current state of the database's Debezium connector (RUNNING, PAUSED, STOPPED, FAILED, UNASSIGNED, RESTARTING, MISSING, UNREACHABLE), 0 for the others; FAILED when any task failed",
      labelNames: ['database', 'connector', 'state'],
      registers,
    });
    this.connectorRestarts = new Counter({
      name: 'relay_connector_restarts_total',
      help: 'restarts of a failed connector or task requested by the relay',
      labelNames: ['database', 'connector'],
      registers,
    });
    this.connectorRecreated = new Counter({
      name: 'relay_connector_recreated_total',
      help: 'connectors deleted and registered again because their replication slot was lost',
      labelNames: ['database', 'connector'],
      registers,
    });
    this.connectorDrift = new Gauge({
      name: 'relay_connector_config_drift',
      help: "1 while the connector's running configuration differs from its committed file (connect-config/<name>.json), 0 otherwise",
      labelNames: ['database', 'connector'],
      registers,
    });
    this.connectorRestores = new Counter({
      name: 'relay_connector_config_restores_total',
      help: 'drifted connector configurations the relay put back to the committed file (CONNECT_RESTORE_DRIFT)',
      labelNames: ['database', 'connector'],
      registers,
    });
    this.slotRetainedWal = new Gauge({
      name: 'relay_slot_retained_wal_bytes',
      help: "WAL the connector's replication slot holds back (current LSN - restart LSN)",
      labelNames: ['database', 'slot'],
      registers,
    });
    this.slotActive = new Gauge({
      name: 'relay_slot_active',
      help: '1 when a connector streams from the replication slot',
      labelNames: ['database', 'slot'],
      registers,
    });
    this.slotFailoverEnabled = new Counter({
      name: 'relay_slot_failover_enabled_total',
      help: 'replication slots made failover slots (made before the connector asked for slot.failover)',
      labelNames: ['database', 'slot'],
      registers,
    });
    this.unconfirmedRows = new Gauge({
      name: 'relay_unconfirmed_rows',
      help: 'outbox rows not yet on Kafka (quarantined rows excluded)',
      labelNames,
      registers,
    });
    this.consumerLag = new Gauge({
      name: 'consumer_lag_messages',
      help: "messages of a topic partition a consumer group has not consumed (end offset - committed offset), read from Kafka, so a stopped group's lag still shows; groups of RELAY_LAG_GROUPS",
      labelNames: ['group', 'topic', 'partition'],
      registers,
    });
    this.groupMembers = new Gauge({
      name: 'consumer_group_members',
      help: 'members of a consumer group of RELAY_LAG_GROUPS (0: nothing consumes)',
      labelNames: ['group'],
      registers,
    });
    this.dlqMessages = new Gauge({
      name: 'dlq_messages',
      help: 'messages retained in <topic>.dlq, for the topics of RELAY_DLQ_TOPICS',
      labelNames: ['topic'],
      registers,
    });
    this.dlqPending = new Gauge({
      name: 'dlq_pending_messages',
      help: 'messages in <topic>.dlq not redriven yet (npm run dlq -- redrive <topic>)',
      labelNames: ['topic'],
      registers,
    });
  }
}
