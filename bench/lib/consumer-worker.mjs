// The relay benchmark's consumer, run in a worker thread so that its timestamps do not wait for the
// writer's (or the in-process relay's) work on the main event loop. Plain JavaScript on purpose: a worker
// gets no TypeScript loader under jest, and this file must run both there (the smoke test) and under tsx.
//
// workerData: { brokers, sasl, topic, groupId, clientId } (sasl: the kafkajs credentials, absent without authentication). Posts {type:'joined'} once the group is joined, then
// {type:'batch', at, ids, created} per fetched batch (at: performance.timeOrigin + performance.now(),
// comparable across threads; created: each record's createdAt header in epoch ms, null when absent), {type:'error', message} on a crash; answers {type:'stop'} with {type:'stopped'}.
import { parentPort, workerData } from 'node:worker_threads';
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;
const { brokers, sasl, topic, groupId, clientId } = workerData;
const clock = () => performance.timeOrigin + performance.now();

const header = (headers, name) => {
  const v = headers?.[name];
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined || one === null ? null : Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
};

/** The createdAt header (the outbox row's created_at, e.g. 2026-11-25T10:00:40.501740Z) in epoch ms, to the microsecond. */
const createdMs = (headers) => {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(header(headers, 'createdAt') ?? '');
  if (!m) return null;
  const whole = Date.parse(`${m[1]}Z`);
  return Number.isFinite(whole) ? whole + Number(`0.${m[2] ?? '0'}`) * 1000 : null;
};

const kafka = new Kafka({ clientId, brokers, ...(sasl ? { sasl } : {}), logLevel: logLevel.NOTHING });
const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 30_000 });
consumer.on(consumer.events.GROUP_JOIN, () => parentPort.postMessage({ type: 'joined' }));
consumer.on(consumer.events.CRASH, (e) => parentPort.postMessage({ type: 'error', message: String(e.payload?.error?.message ?? e.payload?.error) }));

parentPort.on('message', async (m) => {
  if (m?.type !== 'stop') return;
  await consumer.disconnect().catch(() => undefined);
  parentPort.postMessage({ type: 'stopped' });
});

try {
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: 3,
    eachBatch: async ({ batch }) => {
      const at = clock();
      const ids = batch.messages.map((m) => header(m.headers, 'id'));
      parentPort.postMessage({ type: 'batch', at, ids, created: batch.messages.map((m) => createdMs(m.headers)) });
    },
  });
} catch (err) {
  parentPort.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
}
