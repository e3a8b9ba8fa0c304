// The consumer runner every consuming service uses: this file wires the pieces together and keeps the
// consumer running (start, stop, restarts); each message goes through batch.ts and handling.ts.
//
// For each message: validate (id header, known eventType, JSON value, zod schema of the type: decode.ts) —
// anything invalid goes to <topic>.dlq at once (dead-letter.ts); then run the handler inside the service's
// inbox (PostgreSQL: one transaction with the processed_events insert; MongoDB: see inbox/mongo.ts), so a
// redelivered event changes nothing. The offset is resolved only after that commits; kafkajs commits
// resolved offsets after the batch. Transient failures (database unreachable, failing over, read-only,
// serialization conflicts) are retried with backoff for as long as they last, without skipping the message,
// and the consumer keeps heartbeating meanwhile, so it keeps its partitions. Any other handler failure is
// retried as retry.ts decides: a few times in place, then with its partition parked (parking.ts) until
// CONSUMER_RETRY_BUDGET_MS, then dead-lettered.
//
// Nothing stops a consumer silently:
// - a dead letter Kafka refuses (the DLQ's size limit, an ACL, a deleted DLQ) parks the partition and is
//   retried with backoff until Kafka takes it: the message is never dropped, the rest of the consumer goes
//   on, and /ready names the partition that waits and why;
// - a consumer that stops consuming (kafkajs crashed and will not restart, or no fetch completed for
//   CONSUMER_STALL_MS while it has partitions: liveness.ts) is restarted with a fresh kafkajs consumer, with
//   backoff; after CONSUMER_MAX_RESTARTS restarts in a row that did not get it consuming, onGiveUp ends the
//   process (startService exits 1) so that its supervisor starts it afresh.
// A broker lost (one of several): kafkajs retries the failing fetches, heartbeats and commits with waits of
// at most CONSUMER_KAFKA_RETRY_MAX_MS, so the consumer carries on within seconds of the broker's partitions
// getting new leaders, and, patched by createKafka (infra/kafkajs-patch.ts), it finds its group's coordinator
// again when the broker was that, keeping its membership and partitions instead of crashing out of its group.
// problems() is what the service's /ready says about its consumers; the metrics are consumer_running,
// consumer_restarts_total, consumer_last_fetch_age_seconds and consumer_partitions_waiting (telemetry.ts).
//
// Outcomes, counted in consumer_events_total by type: applied; duplicate (the inbox had the id); stale (the
// handler returned stale(): the state it would change is at least as new as the event, see
// events/versions.ts); skipped (no handler here); dead_lettered. A stale event commits with its inbox record,
// like an applied one: the decision is final (held versions never go down), so a redelivery is a cheap
// duplicate.
//
// Decisions written down: an eventType the registry does not know is dead-lettered (reason
// unknown_event_type); a known type this service has no handler for is skipped and its offset committed
// (a topic carries several types, each service handles the ones it cares about), read from its headers
// alone: its value is neither parsed nor validated here.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Tracer } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import type { Consumer, Kafka } from 'kafkajs';
import { ensureTopics, kafkaRetry } from '../../infra/kafka';
import type { Logger } from '../../platform/logging';
import { activeTracer } from '../../observability/tracing';
import type { Inbox } from '../inbox/inbox';
import { batchHandler } from './batch';
import { DeadLetters, dlqTopicOf } from './dead-letter';
import type { BatchLock, ConsumedEvent, Handlers } from './event';
import { eventHandling } from './handling';
import { ConsumerLiveness } from './liveness';
import { ParkingLot, type WaitingPartition } from './parking';
import { backoffDelay, type RetryPolicy } from './retry';
import type { ConsumerTuning } from './settings';
import { ConsumerTelemetry, errorText } from './telemetry';

export interface ConsumerRunnerOptions<Tx> extends Partial<ConsumerTuning> {
  kafka: Kafka;
  /** One consumer group per service. */
  groupId: string;
  topics: string[];
  handlers: Handlers<Tx>;
  /** The locks of a batch's events, taken before its handlers run (BatchLock). */
  lockBatch?: BatchLock<Tx>;
  inbox: Inbox<Tx>;
  log: Logger;
  registry?: Registry;
  /** In-place attempts for a failing handler before it is parked or dead-lettered (transient failures do not count). */
  maxAttempts?: number;
  /** The in-place backoff between attempts. */
  backoff?: { initialMs: number; maxMs: number };
  /** Called after the inbox committed an applied event and before its offset is resolved (metrics, tests). */
  onApplied?: (event: ConsumedEvent) => void | Promise<void>;
  /** How long the group waits for a silent member before reassigning its partitions (kafkajs default 30 s). */
  sessionTimeoutMs?: number;
  /** The service's tracer (observability/tracing.ts startTracing); the process's when absent. */
  tracer?: Tracer;
  /** Restarts in a row did not get the consumer consuming (CONSUMER_MAX_RESTARTS): the process should end. */
  onGiveUp?: (err: Error) => void;
}

export interface ConsumerRunner {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The kafkajs consumer running now (a restart replaces it). */
  readonly consumer: Consumer;
  readonly groupId: string;
  /** What keeps this consumer from doing its job, one sentence each; empty while it consumes. */
  problems(): string[];
  /** Partitions paused behind a message that cannot be settled yet. */
  waiting(): WaitingPartition[];
}

const RESTART_BACKOFF_MAX_MS = 30_000;

export function createConsumerRunner<Tx>(opts: ConsumerRunnerOptions<Tx>): ConsumerRunner {
  const policy: RetryPolicy = {
    maxAttempts: opts.maxAttempts ?? 5,
    budgetMs: opts.retryBudgetMs ?? 300_000,
    backoff: opts.backoff ?? { initialMs: 100, maxMs: 5000 },
    parkedMaxMs: opts.parkedBackoffMaxMs ?? 10_000,
  };
  const stallMs = opts.stallMs ?? 60_000;
  const restartBackoffMs = opts.restartBackoffMs ?? 1000;
  const maxRestarts = opts.maxRestarts ?? 5;
  const sessionTimeout = opts.sessionTimeoutMs ?? 30_000;
  const heartbeatInterval = Math.min(3000, Math.floor(sessionTimeout / 3));
  const maxBatch = opts.maxBatch ?? 100;
  const partitionsConsumedConcurrently = opts.partitionsConsumedConcurrently ?? 1;
  // kafkajs's retries of failing fetches, heartbeats and commits: short waits, so that a consumer carries on
  // within seconds of a lost broker's partitions getting new leaders (CONSUMER_KAFKA_RETRY_MAX_MS).
  const retry = kafkaRetry({ maxMs: opts.kafkaRetryMaxMs ?? 2000, budgetMs: opts.kafkaRetryBudgetMs ?? 120_000 });
  const telemetry = new ConsumerTelemetry(opts.registry, opts.groupId, opts.tracer ?? activeTracer());
  const deadLetters = new DeadLetters(opts.kafka, opts.groupId, telemetry, () => stopping);
  const liveness = new ConsumerLiveness(Date.now());
  const lot = new ParkingLot({
    initialMs: policy.backoff.initialMs * 2 ** Math.max(0, policy.maxAttempts - 1),
    maxMs: policy.parkedMaxMs,
    log: opts.log.child({ groupId: opts.groupId }),
    onChange: () => telemetry.waiting(lot.waiting().length),
  });
  let stopping = false;
  let current: Consumer | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  let restarting: Promise<void> | undefined;
  /** Restarts since the consumer last consumed for stallMs in a row. */
  let restartsInARow = 0;
  let lastRestartAt = 0;

  const handling = eventHandling<Tx>({
    handlers: opts.handlers,
    inbox: opts.inbox,
    log: opts.log,
    onApplied: opts.onApplied,
    policy,
    heartbeatInterval,
    telemetry,
    deadLetters,
    stopping: () => stopping,
  });
  const eachBatch = batchHandler<Tx>({
    handlers: opts.handlers,
    ...(opts.lockBatch ? { lockBatch: opts.lockBatch } : {}),
    inbox: opts.inbox,
    log: opts.log,
    maxBatch,
    heartbeatInterval,
    telemetry,
    deadLetters,
    handling,
    liveness,
    lot,
    isCurrent: (consumer) => current === consumer,
  });

  /** A kafkajs consumer wired to the liveness state; events of a replaced one are ignored. */
  function newConsumer(): Consumer {
    const consumer = opts.kafka.consumer({
      groupId: opts.groupId,
      // A fetch returns as soon as a record arrives; the wait only bounds an idle fetch (an idle consumer's cost).
      maxWaitTimeInMs: 500,
      sessionTimeout,
      heartbeatInterval,
      retry,
    });
    const mine = () => current === consumer && !stopping;
    consumer.on(consumer.events.FETCH, () => {
      if (!mine()) return;
      liveness.fetched(Date.now());
      telemetry.running(liveness.phase === 'consuming');
      if (restartsInARow > 0 && Date.now() - lastRestartAt > stallMs) restartsInARow = 0;
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      if (!mine()) return;
      const assignment = e.payload.memberAssignment;
      const partitions = Object.values(assignment).reduce((n, ps) => n + ps.length, 0);
      // Every join is a rebalance of the group (a start, a member come or gone, a rejoin): visible in the log.
      opts.log.info({ groupId: opts.groupId, memberId: e.payload.memberId, partitions, durationMs: e.payload.duration }, 'joined its consumer group');
      liveness.joined(partitions, Date.now());
      telemetry.running(true);
      lot.release((t, p) => (assignment[t] ?? []).includes(p));
    });
    consumer.on(consumer.events.CRASH, (e) => {
      if (!mine()) return;
      const { error, restart } = e.payload;
      telemetry.running(false);
      if (restart) {
        liveness.set('crashed', `kafkajs crashed (${errorText(error)}) and restarts it`, Date.now());
        return;
      }
      liveness.set('crashed', `kafkajs crashed for good: ${errorText(error)}`, Date.now());
      void restartConsumer(`crashed: ${errorText(error)}`, 'crash');
    });
    return consumer;
  }

  async function run(consumer: Consumer): Promise<void> {
    await consumer.connect();
    await consumer.subscribe({ topics: opts.topics, fromBeginning: true });
    await consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently,
      eachBatch: (payload) => eachBatch(consumer, payload),
    });
  }

  /** Replaces the kafkajs consumer after a backoff; gives up (onGiveUp) after maxRestarts in a row. */
  function restartConsumer(why: string, reason: 'crash' | 'stalled'): Promise<void> {
    restarting ??= (async () => {
      try {
        while (!stopping) {
          restartsInARow += 1;
          if (restartsInARow > maxRestarts) {
            const err = new Error(`consumer ${opts.groupId} did not consume again after ${maxRestarts} restarts (${why})`);
            opts.log.fatal({ err, groupId: opts.groupId }, 'giving up on the consumer; the process must be restarted');
            liveness.set('stopped', `gave up after ${maxRestarts} restarts: ${why}`, Date.now());
            opts.onGiveUp?.(err);
            return;
          }
          const delayMs = backoffDelay(restartBackoffMs, Math.max(restartBackoffMs, RESTART_BACKOFF_MAX_MS), restartsInARow - 1);
          telemetry.restarted(reason);
          opts.log.error({ groupId: opts.groupId, why, restart: restartsInARow, delayMs }, 'consumer stopped consuming; restarting it');
          liveness.set('restarting', `${why}; restart ${restartsInARow} of ${maxRestarts} in ${delayMs} ms`, Date.now());
          telemetry.running(false);
          const old = current;
          current = undefined;
          await lot.clear();
          await old?.disconnect().catch(() => undefined);
          await sleep(delayMs);
          if (stopping) return;
          lastRestartAt = Date.now();
          const fresh = newConsumer();
          current = fresh;
          liveness.set('starting', 'restarted; joining its group', Date.now());
          try {
            await run(fresh);
            return;
          } catch (err) {
            why = `restart failed: ${errorText(err)}`;
          }
        }
      } finally {
        restarting = undefined;
      }
    })();
    return restarting;
  }

  function watch(): void {
    const now = Date.now();
    telemetry.lastFetchAge(Math.max(0, now - liveness.lastFetchAt) / 1000);
    if (stopping || restarting) return;
    if (liveness.stalled(now, stallMs)) {
      void restartConsumer(
        `no fetch completed for ${Math.round((now - liveness.lastFetchAt) / 1000)} s with ${liveness.assigned} partition(s) assigned`,
        'stalled',
      );
    }
  }

  // Made now, so that callers can listen to its events before start().
  current = newConsumer();
  return {
    get consumer() {
      return current!;
    },
    groupId: opts.groupId,
    problems() {
      const now = Date.now();
      const out: string[] = [];
      const p = liveness.problem(now);
      if (p) out.push(`${opts.groupId} ${p}`);
      for (const w of lot.waiting())
        out.push(`${opts.groupId}: ${w.topic}[${w.partition}] waits at offset ${w.offset} for ${Math.round((now - w.since) / 1000)} s: ${w.reason}`);
      return out;
    },
    waiting: () => lot.waiting(),
    async start() {
      await ensureTopics(opts.kafka, [...opts.topics, ...opts.topics.map(dlqTopicOf)]);
      await deadLetters.producer.connect();
      current ??= newConsumer();
      await run(current);
      watchdog = setInterval(watch, Math.min(5000, Math.max(250, stallMs / 4)));
      watchdog.unref();
      opts.log.info({ groupId: opts.groupId, topics: opts.topics }, 'consuming');
    },
    async stop() {
      stopping = true;
      if (watchdog) clearInterval(watchdog);
      await restarting;
      await lot.clear();
      // disconnect() lets the in-flight message finish and commits resolved offsets before leaving the group.
      await current?.disconnect();
      liveness.set('stopped', 'stopped', Date.now());
      telemetry.running(false);
      await deadLetters.producer.disconnect();
    },
  };
}
