// The relay benchmark's consumer, run in a worker thread so that its timestamps do not wait for the
// writer's (or the in-process relay's) work on the main event loop. Plain JavaScript on purpose: a worker
// gets no TypeScript loader under jest, and this file must run both there (the smoke test) and under tsx.
//
// workerData: { brokers, topic, groupId, clientId }. Posts {type:'joined'} once the group is joined, then
// {type:'batch', at, ids} per fetched batch (at: performance.timeOrigin + performance.now(), comparable
// across threads), {type:'error', message} on a crash; answers {type:'stop'} with {type:'stopped'}.
import { parentPort, workerData } from 'node:worker_threads';
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;
const { brokers, topic, groupId, clientId } = workerData;
const clock = () => performance.timeOrigin + performance.now();

const headerId = (headers) => {
  const v = headers?.id;
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined || one === null ? null : Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
};

const kafka = new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING });
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
      parentPort.postMessage({ type: 'batch', at, ids: batch.messages.map((m) => headerId(m.headers)) });
    },
  });
} catch (err) {
  parentPort.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
}
