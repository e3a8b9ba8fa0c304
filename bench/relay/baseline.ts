// The baseline: no outbox, kafkajs sends each event straight to Kafka, with the polling relay's producer
// settings. What a relay could at best do on this machine.
import { Partitioners, type Producer } from 'kafkajs';
import type { RelayAdapter, RelaySetup } from './adapter';
import { DirectSender } from './writers';

export const baseline: RelayAdapter = {
  kind: 'baseline',
  backlogInOutbox: false,
  polls: false,
  setups: () => [
    (ctx): RelaySetup => {
      const { opts, newEvent } = ctx;
      let producer: Producer | undefined;
      let sender: DirectSender | undefined;
      const push = (run: Parameters<DirectSender['push']>[0], k: number) => sender!.push(run, Array.from({ length: k }, newEvent));
      return {
        variant: 'kafkajs',
        label: 'baseline (kafkajs)',
        settings: { producer: 'kafkajs 2.2.4, idempotent, acks=-1, 1 request in flight, requests of up to ' + opts.batchSize + ' records' },
        settleMs: opts.settleS * 1000,
        warmUpTimeoutMs: 30_000,
        async start() {
          const p = ctx.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
          await p.connect();
          producer = p;
          sender = new DirectSender(p, ctx.topic, ctx.tracker, ctx.aggregateType, opts.batchSize);
        },
        steady: { perLaunch: 1, maxInFlight: 1_000_000, send: async (run, k) => push(run, k), flush: () => sender!.flush() },
        // Nothing relays between the writer and Kafka: the backlog is handed over when the drain starts.
        stop: async () => undefined,
        async startDrain(run) {
          const events = Array.from({ length: opts.backlog }, newEvent);
          for (let i = 0; i < events.length; i += opts.batchSize) sender!.push(run, events.slice(i, i + opts.batchSize));
          await sender!.flush();
        },
        cost: async () => async () => null,
        async close() {
          await producer?.disconnect();
          producer = undefined;
        },
      };
    },
  ],
};
