// The pipeline's consumer side, seen from Kafka: every RELAY_SUPERVISE_INTERVAL_MS the relay reads the lag
// of each consumer group of RELAY_LAG_GROUPS per topic partition and the depth of each dead-letter topic,
// and exports them (consumer_lag_messages, consumer_group_members, dlq_messages, dlq_pending_messages).
// Measured here rather than in each service because a stopped consumer cannot report its own lag.
import { Loop, type Logger } from '@qtshop/shared/platform';
import type { Kafka } from '@qtshop/shared/infra';
import { observeConsumerGroups, observeDeadLetters } from '@qtshop/shared/delivery';
import type { Admin } from 'kafkajs';
import type { RelayMetrics } from './metrics';

export interface KafkaWatcherOptions {
  kafka: Kafka;
  groups: string[];
  /** Topics whose <topic>.dlq is measured. */
  dlqTopics: string[];
  intervalMs: number;
  log: Logger;
  metrics: RelayMetrics;
}

export class KafkaWatcher {
  private readonly loop: Loop;
  private readonly log: Logger;
  private admin: Admin | undefined;
  private lastError: string | undefined;

  constructor(private readonly opts: KafkaWatcherOptions) {
    this.log = opts.log.child({ worker: 'kafka-watcher' });
    this.loop = Loop.every(
      opts.intervalMs,
      () => this.tick(),
      (err) => this.failed(err),
    );
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.admin?.disconnect();
  }

  /** Reads lag and dead-letter depth once and exports them. */
  async tick(): Promise<void> {
    if (!this.admin) {
      const admin = this.opts.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    const [groups, dlqs] = await Promise.all([observeConsumerGroups(this.admin, this.opts.groups), observeDeadLetters(this.admin, this.opts.dlqTopics)]);
    const { metrics } = this.opts;
    // Reset, then set in the same synchronous run: a partition or group that went away leaves no stale series.
    metrics.consumerLag.reset();
    metrics.groupMembers.reset();
    for (const g of groups) {
      metrics.groupMembers.set({ group: g.group }, g.members);
      for (const p of g.partitions) metrics.consumerLag.set({ group: g.group, topic: p.topic, partition: String(p.partition) }, p.lag);
    }
    for (const d of dlqs) {
      metrics.dlqMessages.set({ topic: d.topic }, d.messages);
      metrics.dlqPending.set({ topic: d.topic }, d.pending);
    }
    if (this.lastError) this.log.info('consumer lag and dead letters observed again');
    this.lastError = undefined;
  }

  private async failed(err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    if (message !== this.lastError) this.log.warn({ err }, 'cannot read consumer lag and dead letters from Kafka; retrying next interval');
    this.lastError = message;
    const admin = this.admin;
    this.admin = undefined;
    await admin?.disconnect().catch(() => undefined);
  }
}
