// The relay's Prometheus metrics, one set per registry, labelled by outbox database. The benchmark reads
// polls (SELECTs issued), rows published and batches from here or from the workers' stats() getters.
import { Counter, Gauge, type Registry } from 'prom-client';

export class RelayMetrics {
  readonly polls: Counter<'database'>;
  readonly rows: Counter<'database'>;
  readonly batches: Counter<'database'>;
  readonly errors: Counter<'database'>;
  readonly lastErrorTime: Gauge<'database'>;
  readonly active: Gauge<'database'>;
  readonly deleted: Counter<'database'>;

  constructor(registry: Registry) {
    const registers = [registry];
    const labelNames = ['database'] as const;
    this.polls = new Counter({ name: 'relay_polls_total', help: 'outbox polls (SELECTs of unsent rows) issued', labelNames, registers });
    this.rows = new Counter({ name: 'relay_rows_published_total', help: 'outbox rows published to Kafka', labelNames, registers });
    this.batches = new Counter({ name: 'relay_batches_total', help: 'non-empty batches published to Kafka', labelNames, registers });
    this.errors = new Counter({ name: 'relay_errors_total', help: 'failed polls or janitor runs', labelNames, registers });
    this.lastErrorTime = new Gauge({ name: 'relay_last_error_timestamp_seconds', help: 'time of the last failure', labelNames, registers });
    this.active = new Gauge({ name: 'relay_active', help: '1 when this relay holds the outbox lock of the database, 0 when standby', labelNames, registers });
    this.deleted = new Counter({ name: 'relay_janitor_deleted_total', help: 'old outbox rows deleted by the janitor', labelNames, registers });
  }
}
