// One decoded event through the service's inbox on its own: its handler attempts, retried in place, parked
// or dead-lettered as retry.ts decides, and its outcome counted and logged. Transient failures (database
// unreachable, failing over, read-only, serialization conflicts) are retried for as long as they last,
// heartbeating meanwhile (membership.ts), so the consumer keeps its partitions.
import { setTimeout as sleep } from 'node:timers/promises';
import type { KafkaMessage } from 'kafkajs';
import { isStale } from '../../events/versions';
import { isEventFault, isTransient } from '../../infra/transient';
import type { Logger } from '../../platform/logging';
import type { Inbox, InboxResult } from '../inbox/inbox';
import type { DeadLetters, DlqReason } from './dead-letter';
import { Unprocessable, type ConsumedEvent, type HandlerResult, type Handlers } from './event';
import { lostMembership, withHeartbeats } from './membership';
import { Park } from './parking';
import { afterFailure, parkedExpired, type RetryPolicy } from './retry';
import { errorText, type ConsumerTelemetry, type Outcome } from './telemetry';

export interface EventHandlingOptions<Tx> {
  handlers: Handlers<Tx>;
  inbox: Inbox<Tx>;
  log: Logger;
  /** Called after the inbox committed an applied event and before its offset is resolved. */
  onApplied?: (event: ConsumedEvent) => void | Promise<void>;
  policy: RetryPolicy;
  /** How often to heartbeat while an attempt or a wait lasts. */
  heartbeatInterval: number;
  telemetry: ConsumerTelemetry;
  deadLetters: DeadLetters;
  /** True once the runner is stopping. */
  stopping: () => boolean;
}

export interface EventHandling<Tx> {
  /** The service's handler of the event's type, if it has one. */
  handlerOf(event: ConsumedEvent): ((e: ConsumedEvent, tx: Tx) => Promise<HandlerResult>) | undefined;
  /** Counts and logs what the inbox did with an event; for an applied one, its latency and onApplied. */
  record(event: ConsumedEvent, message: KafkaMessage, r: InboxResult): Promise<Outcome>;
  /** Handles one decoded event on its own, in its consumer span; throws Park when it must wait. */
  traced(event: ConsumedEvent, message: KafkaMessage, heartbeat: () => Promise<void>): Promise<void>;
}

export function eventHandling<Tx>(o: EventHandlingOptions<Tx>): EventHandling<Tx> {
  const { policy, heartbeatInterval, telemetry: t, deadLetters } = o;

  const handlerOf = (event: ConsumedEvent) => o.handlers[event.type] as ((e: ConsumedEvent, tx: Tx) => Promise<HandlerResult>) | undefined;
  const eventLog = (event: ConsumedEvent) =>
    o.log.child({ eventId: event.id, eventType: event.type, topic: event.topic, partition: event.partition, offset: event.offset });

  async function record(event: ConsumedEvent, message: KafkaMessage, r: InboxResult): Promise<Outcome> {
    const log = eventLog(event);
    if (isStale(r)) {
      t.outcome(event.type, 'stale');
      log.info({ result: 'stale', heldVersion: r.held, eventVersion: r.incoming }, 'stale event skipped: the state it would change is at least as new');
      return 'stale';
    }
    t.outcome(event.type, r);
    log.info({ result: r }, r === 'applied' ? 'event applied' : 'duplicate event ignored');
    if (r === 'applied') {
      t.applied(event.type, message);
      await o.onApplied?.(event);
    }
    return r;
  }

  /** One attempt of the event's handler through the inbox, in a span `handle <EventType>`. */
  const attemptOf = (event: ConsumedEvent, attempt: number) => () =>
    t.handleSpan(event.type, attempt, () => o.inbox.process(event, (tx) => handlerOf(event)!(event, tx)));

  /**
   * The background attempts of an event parked after its quick attempts failed: retried until the budget
   * from its first failure is spent, then dead-lettered (itself retried until Kafka takes it).
   */
  function parkedHandler(event: ConsumedEvent, message: KafkaMessage, firstFailureAt: number, failures: number, why: string): Park {
    const log = eventLog(event);
    let attempts = failures;
    let deadLettering: { reason: DlqReason; error: string } | undefined;
    const sendDeadLetter = async (reason: DlqReason, error: string) => {
      deadLettering = { reason, error };
      log.error({ attempts, reason, error }, 'handler keeps failing; dead-lettering');
      // A refusal here is retried by the parking lot itself: deadLettering is set, so the next attempt only sends.
      await deadLetters.send(event.topic, event.partition, message, reason, error, attempts);
      t.outcome(event.type, 'dead_lettered');
    };
    return new Park(
      event.topic,
      event.partition,
      event.offset,
      why,
      {
        attempt: async () => {
          if (deadLettering) return sendDeadLetter(deadLettering.reason, deadLettering.error);
          try {
            attempts += 1;
            await record(event, message, await attemptOf(event, attempts)());
          } catch (err) {
            if (err instanceof Unprocessable) return sendDeadLetter('unprocessable', err.message);
            const transient = isTransient(err);
            t.retried(event.type, transient);
            if (!transient && (isEventFault(err) || parkedExpired(policy, Date.now() - firstFailureAt)))
              return sendDeadLetter('handler_failed', errorText(err));
            throw err;
          }
        },
        why: (err) => {
          if (deadLettering) return deadLetters.refused(event.topic, deadLettering.reason, err);
          return `its handler keeps failing (${attempts} attempts, ${Math.round((Date.now() - firstFailureAt) / 1000)} s of ${policy.budgetMs / 1000} s before it is dead-lettered): ${errorText(err)}`;
        },
      },
      { eventId: event.id, eventType: event.type },
    );
  }

  /** One event the batch decoded, of a type this service handles: retried, parked or dead-lettered as retry.ts decides. */
  async function handle(event: ConsumedEvent, message: KafkaMessage, heartbeat: () => Promise<void>): Promise<Outcome> {
    const { topic, partition } = event;
    const log = eventLog(event);
    let failures = 0;
    let waits = 0;
    let firstFailureAt = 0;
    // Heartbeats run during each attempt and each wait: the attempt itself may block for as long as the
    // database stays unreachable (connection and pool timeouts), longer than the session timeout.
    for (;;) {
      try {
        const result = await withHeartbeats(heartbeat, heartbeatInterval, attemptOf(event, failures + 1));
        return await record(event, message, result.value);
      } catch (err) {
        if (err instanceof Unprocessable) {
          log.warn({ error: err.message }, 'event cannot be applied; dead-lettering');
          await deadLetters.deadLetter(topic, partition, message, 'unprocessable', err.message, failures + 1);
          return 'dead_lettered';
        }
        const transient = isTransient(err);
        if (!transient) failures += 1;
        firstFailureAt ||= Date.now();
        t.retried(event.type, transient);
        if (o.stopping() && transient) throw err; // leave it uncommitted; the next owner of the partition retries
        const next = afterFailure(policy, { failures, waits, transient, elapsedMs: Date.now() - firstFailureAt, eventFault: isEventFault(err) });
        if (next.action === 'dead-letter') {
          log.error({ err, attempts: failures }, 'handler keeps failing; dead-lettering');
          await deadLetters.deadLetter(topic, partition, message, 'handler_failed', errorText(err), failures);
          return 'dead_lettered';
        }
        if (next.action === 'park') {
          throw parkedHandler(event, message, firstFailureAt, failures, `its handler keeps failing (${failures} attempts): ${errorText(err)}; retrying it`);
        }
        log.warn({ err: { message: (err as Error).message, code: (err as { code?: string }).code }, transient, attempt: failures }, 'handler failed; retrying');
        // A rebalance noticed while waiting ends the retries here: thrown, the message stays uncommitted.
        const { lost } = await withHeartbeats(heartbeat, heartbeatInterval, () => sleep(next.delayMs));
        if (lost !== undefined) throw lost;
        waits += 1;
        await heartbeat().catch((e: unknown) => {
          if (lostMembership(e)) throw e;
        });
      }
    }
  }

  return {
    handlerOf,
    record,
    traced: (event, message, heartbeat) => t.traced(event, message, () => handle(event, message, heartbeat)),
  };
}
