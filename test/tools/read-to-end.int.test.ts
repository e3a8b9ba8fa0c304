// readToEnd (tools, chaos checks, npm run events) on topics a transactional producer writes, as the
// polling relay does: a partition then ends in a commit or abort marker, which no message stands for.
import { randomUUID } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import { createKafka, ensureTopics, loadInfra } from '@qtshop/shared/infra';
import { readToEnd } from '@qtshop/shared/tooling';

const kafka = createKafka(loadInfra().kafka, 'test-read-to-end');

describe('readToEnd', () => {
  it('reads a topic whose partitions end in transaction markers, committed and aborted, to its end, without the aborted records', async () => {
    const topic = `test.read-to-end.${randomUUID()}`;
    await ensureTopics(kafka, [topic], 1);
    const producer = kafka.producer({ transactionalId: `test-read-to-end-${randomUUID()}`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const send = async (value: string, outcome: 'commit' | 'abort') => {
        const tx = await producer.transaction();
        await tx.send({ topic, acks: -1, messages: [{ key: 'k', value }] });
        await tx[outcome]();
      };
      await send('first', 'commit');
      await send('never', 'abort');
      await send('second', 'commit'); // the partition now ends in this transaction's commit marker
    } finally {
      await producer.disconnect();
    }
    const seen: string[] = [];
    const read = (from: 'start' | { partition: number; offset: string }[]) =>
      readToEnd(kafka, topic, `test-read-to-end-${randomUUID()}`, from, async (_p, m: KafkaMessage) => void seen.push(m.value!.toString()), 20_000);
    await read('start');
    expect(seen).toEqual(['first', 'second']);

    // From an offset past the last message: only the marker is left, and the read ends at once.
    seen.length = 0;
    const admin = kafka.admin();
    await admin.connect();
    const [end] = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    await read([{ partition: 0, offset: String(Number(end!.high) - 1) }]);
    expect(seen).toEqual([]);
  }, 60_000);
});
