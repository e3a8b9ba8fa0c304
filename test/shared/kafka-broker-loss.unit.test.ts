// A broker lost under kafkajs clients, as createKafka patches and configures them (services/shared/src/infra/
// kafkajs-patch.ts, kafka.ts). A consumer's failed fetch, on kafkajs's own ConsumerGroup: a partition whose leader moved refreshes the metadata without a rebalance
// (kafkajs 2.2.4 joins the group again), a broker that refuses the connection gives up that broker's fetch
// after a pause and a metadata refresh (kafkajs 2.2.4 throws, which stops the fetch of every broker), and
// other errors are recovered as kafkajs recovers them. "Ask any broker", on kafkajs's own BrokerPool: the
// connected brokers first, one that refuses the connection skipped. The client's retries wait at most
// KAFKA_RETRY_MAX_MS.
import { jest } from '@jest/globals';
import { KafkaJSConnectionError, KafkaJSProtocolError } from 'kafkajs';
import { BrokerPool, ConsumerGroup, kafkaClientConfig, LEADER_MOVED, patchKafkajsFetchRecovery, patchKafkajsWithBroker } from '@qtshop/shared/infra';

interface Group {
  recoverFromFetch(e: unknown): Promise<void>;
  joinAndSync: jest.Mock<() => Promise<void>>;
  cluster: { refreshMetadata: jest.Mock<() => Promise<void>>; removeBroker: jest.Mock };
}
const KafkajsConsumerGroupClass = ConsumerGroup as unknown as new (o: Record<string, unknown>) => Group;
const logger = { namespace: () => logger, debug() {}, info() {}, warn() {}, error() {} };

function group(refresh: () => Promise<void> = async () => undefined): Group {
  const cluster = { refreshMetadata: jest.fn(refresh), removeBroker: jest.fn() };
  const g = new KafkajsConsumerGroupClass({
    retry: { retries: 0 },
    cluster,
    groupId: 'qtshop-inventory',
    topics: [],
    topicConfigurations: {},
    logger,
    instrumentationEmitter: { emit: jest.fn() },
    assigners: [],
  });
  g.joinAndSync = jest.fn(async () => undefined);
  return g;
}
const protocolError = (type: string) => new KafkaJSProtocolError(Object.assign(new Error(type), { type }));
const refused = () => new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092', { broker: '127.0.0.1:9092', code: 'ECONNREFUSED' });

const PAUSE_MS = 40;
beforeAll(() => {
  patchKafkajsFetchRecovery(PAUSE_MS);
  patchKafkajsWithBroker();
});

describe('a fetch failed by a partition whose leader moved', () => {
  it.each([...LEADER_MOVED])('%s refreshes the metadata and keeps the membership (no rejoin)', async (type) => {
    const g = group();
    await g.recoverFromFetch(protocolError(type));
    expect(g.cluster.refreshMetadata).toHaveBeenCalledTimes(1);
    expect(g.joinAndSync).not.toHaveBeenCalled();
  });
});

describe('a fetch refused by a broker that is down', () => {
  it("pauses, refreshes the metadata and gives up that broker's fetch without throwing", async () => {
    const g = group();
    const started = Date.now();
    await expect(g.recoverFromFetch(refused())).resolves.toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(PAUSE_MS - 5);
    expect(g.cluster.refreshMetadata).toHaveBeenCalledTimes(1);
    expect(g.joinAndSync).not.toHaveBeenCalled();
  });

  it('gives up the fetch even when no broker answers the refresh (the next fetch comes back here)', async () => {
    const g = group(async () => Promise.reject(new Error('no broker')));
    await expect(g.recoverFromFetch(refused())).resolves.toBeUndefined();
  });
});

describe('other fetch failures', () => {
  it('a partition gone (UNKNOWN_TOPIC_OR_PARTITION) still refreshes and rejoins, as kafkajs does', async () => {
    const g = group();
    await g.recoverFromFetch(protocolError('UNKNOWN_TOPIC_OR_PARTITION'));
    expect(g.cluster.refreshMetadata).toHaveBeenCalledTimes(1);
    expect(g.joinAndSync).toHaveBeenCalledTimes(1);
  });

  it('an error kafkajs does not recover from is thrown, as before', async () => {
    const g = group();
    const denied = protocolError('TOPIC_AUTHORIZATION_FAILED');
    await expect(g.recoverFromFetch(denied)).rejects.toBe(denied);
    expect(g.joinAndSync).not.toHaveBeenCalled();
  });
});

describe('asking any broker (FindCoordinator) while one is down', () => {
  type Pool = Parameters<typeof BrokerPool.prototype.withBroker>;
  /** A broker pool of kafkajs's class whose brokers are up or down; findBroker connects, refusing for those down. */
  function pool(brokers: Record<string, { connected: boolean; down?: boolean }>) {
    const p = Object.create(BrokerPool.prototype) as typeof BrokerPool.prototype & { findBroker: jest.Mock<(o: { nodeId: string }) => Promise<unknown>> };
    p.brokers = Object.fromEntries(Object.entries(brokers).map(([id, b]) => [id, { isConnected: () => b.connected }]));
    p.findBroker = jest.fn(async ({ nodeId }: { nodeId: string }) => {
      if (brokers[nodeId]!.down) throw refused();
      return { nodeId };
    });
    return p;
  }
  const ask = (p: ReturnType<typeof pool>, callback: Pool[0] = async ({ nodeId }) => `answered by ${nodeId}`) => p.withBroker(callback);

  it('asks a connected broker first, never connecting to the one that is down', async () => {
    for (let n = 0; n < 20; n++) {
      const p = pool({ '1': { connected: true }, '2': { connected: false, down: true }, '3': { connected: true } });
      await expect(ask(p)).resolves.toMatch(/answered by [13]/);
      expect(p.findBroker).not.toHaveBeenCalledWith({ nodeId: '2' });
    }
  });

  it('skips a broker that refuses the connection and asks the next (kafkajs threw the refusal)', async () => {
    for (let n = 0; n < 20; n++) {
      const p = pool({ '1': { connected: false }, '2': { connected: false, down: true }, '3': { connected: false } });
      await expect(ask(p)).resolves.toMatch(/answered by [13]/);
    }
  });

  it('throws the refusal when no broker can be reached, and answers null when every reached one failed, as kafkajs', async () => {
    await expect(ask(pool({ '1': { connected: false, down: true }, '2': { connected: false, down: true } }))).rejects.toThrow(/ECONNREFUSED/);
    await expect(
      ask(pool({ '1': { connected: true }, '2': { connected: false, down: true } }), async () => {
        throw new Error('not this one');
      }),
    ).resolves.toBeNull();
  });
});

describe("a Kafka client's retries", () => {
  const address = { brokers: ['127.0.0.1:9092'], requestTimeoutMs: 30_000 };
  it('wait at most KAFKA_RETRY_MAX_MS between attempts (kafkajs: 30 s), 2 s unless set', () => {
    expect(kafkaClientConfig(address, 'inventory').retry).toEqual({ maxRetryTime: 2000 });
    expect(kafkaClientConfig({ ...address, retryMaxMs: 500 }, 'inventory').retry).toEqual({ maxRetryTime: 500 });
  });
});
