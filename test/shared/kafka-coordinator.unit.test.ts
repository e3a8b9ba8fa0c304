// kafkajs consumers and a group coordinator that is gone, as createKafka patches them (services/shared/src/infra/kafkajs-patch.ts):
// on kafkajs's own OffsetManager and ConsumerGroup, an offset commit or heartbeat that cannot reach the
// coordinator it knew asks the cluster for the group's coordinator and goes there (kafkajs 2.2.4 would
// keep asking the dead broker until the consumer crashed); other failures, and a coordinator that answers,
// are left as they were.
import { jest } from '@jest/globals';
import { KafkaJSBrokerNotFound, KafkaJSConnectionError, KafkaJSProtocolError } from 'kafkajs';
import { ConsumerGroup, coordinatorUnreachable, OffsetManager, patchKafkajsCoordinator, type KafkajsCoordinator } from '@qtshop/shared/infra';

type Fn = (...args: never[]) => Promise<unknown>;
interface FakeBroker extends KafkajsCoordinator {
  offsetCommit: jest.Mock<Fn>;
  heartbeat: jest.Mock<Fn>;
}
const broker = (nodeId: number, up: boolean, fails?: Error): FakeBroker => ({
  nodeId,
  isConnected: () => up,
  offsetCommit: jest.fn<Fn>(async () => {
    if (fails) throw fails;
    return {};
  }),
  heartbeat: jest.fn<Fn>(async () => {
    if (fails) throw fails;
    return {};
  }),
});
const refused = () => new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:19102', { broker: '127.0.0.1:19102', code: 'ECONNREFUSED' });
// kafkajs's typings give this error no arguments; kafkajs itself passes the message (brokerPool.js).
const BrokerNotFound = KafkaJSBrokerNotFound as unknown as new (message: string) => Error;
const gone = () => new BrokerNotFound('Broker 2 not found in the cached metadata');

/** A kafkajs cluster whose metadata no longer has `dead` (findBroker) and whose FindCoordinator names `coordinator` (or fails). */
const cluster = (coordinator: FakeBroker | Error, findBroker: () => Promise<unknown> = async () => Promise.reject(gone())) => ({
  committed: {} as Record<string, unknown>,
  committedOffsets(this: { committed: Record<string, unknown> }) {
    return this.committed;
  },
  findBroker: jest.fn(findBroker),
  findGroupCoordinator: jest.fn(async (_o: { groupId: string }) => {
    if (coordinator instanceof Error) throw coordinator;
    return coordinator;
  }),
});

type OffsetManagerInstance = InstanceType<typeof KafkajsOffsetManagerClass>;
const KafkajsOffsetManagerClass = OffsetManager as unknown as new (o: Record<string, unknown>) => {
  coordinator: KafkajsCoordinator;
  commitOffsets(o?: { topics?: unknown[] }): Promise<void>;
  getCoordinator(): Promise<KafkajsCoordinator>;
};
const emitter = () => ({ emit: jest.fn() });
const offsetManager = (coordinator: FakeBroker, c: ReturnType<typeof cluster>): OffsetManagerInstance =>
  new KafkajsOffsetManagerClass({
    cluster: c,
    coordinator,
    memberAssignment: { 'qtshop.order': [0] },
    autoCommit: true,
    autoCommitInterval: null,
    autoCommitThreshold: null,
    topicConfigurations: { 'qtshop.order': { fromBeginning: true } },
    instrumentationEmitter: emitter(),
    groupId: 'qtshop-order-query',
    generationId: 7,
    memberId: 'order-query-1',
  });
const topics = [{ topic: 'qtshop.order', partitions: [{ partition: 0, offset: '42' }] }];

const KafkajsConsumerGroupClass = ConsumerGroup as unknown as new (o: Record<string, unknown>) => {
  coordinator: KafkajsCoordinator | null;
  offsetManager: { coordinator: KafkajsCoordinator } | null;
  memberId: string | null;
  generationId: number | null;
  lastRequest: number;
  heartbeat(o: { interval: number }): Promise<void>;
};
const logger = { namespace: () => logger, debug() {}, info() {}, warn() {}, error() {} };
const consumerGroup = (coordinator: FakeBroker, c: ReturnType<typeof cluster>, instrumentationEmitter = emitter()) => {
  const g = new KafkajsConsumerGroupClass({
    retry: { retries: 0 },
    cluster: c,
    groupId: 'qtshop-order-query',
    topics: [],
    topicConfigurations: {},
    logger,
    instrumentationEmitter,
    assigners: [],
  });
  Object.assign(g, { coordinator, offsetManager: { coordinator }, memberId: 'order-query-1', generationId: 7, lastRequest: 0 });
  return g;
};

beforeAll(() => patchKafkajsCoordinator());

describe('coordinatorUnreachable', () => {
  it.each([
    ['a refused connection', refused()],
    ['a broker gone from the metadata', gone()],
    ['a closed connection', Object.assign(new Error('Closed connection'), { name: 'KafkaJSConnectionClosedError' })],
    ['no answer in time', Object.assign(new Error('Request Heartbeat(key: 12, version: 3) timed out'), { name: 'KafkaJSRequestTimeoutError' })],
  ])('is true for %s', (_what, err) => expect(coordinatorUnreachable(err)).toBe(true));
  it.each([
    ['a rebalance', new KafkaJSProtocolError(Object.assign(new Error('The group is rebalancing'), { type: 'REBALANCE_IN_PROGRESS' }))],
    ['a plain error', new Error('x')],
    ['nothing', undefined],
  ])('is false for %s', (_what, err) => expect(coordinatorUnreachable(err)).toBe(false));
});

describe("a kafkajs consumer's offset commits", () => {
  it('go to the group coordinator the cluster names now when the broker they knew is gone from the metadata', async () => {
    const dead = broker(2, false);
    const live = broker(1, true);
    const c = cluster(live);
    const om = offsetManager(dead, c);
    await om.commitOffsets({ topics });
    expect(c.findGroupCoordinator).toHaveBeenCalledWith({ groupId: 'qtshop-order-query' });
    expect(live.offsetCommit).toHaveBeenCalledWith(
      expect.objectContaining({ groupId: 'qtshop-order-query', memberId: 'order-query-1', groupGenerationId: 7, topics }),
    );
    expect(dead.offsetCommit).not.toHaveBeenCalled();
    expect(om.coordinator).toBe(live);
    // Kept from then on: the next commit asks the cluster nothing.
    await om.commitOffsets({ topics });
    expect(c.findGroupCoordinator).toHaveBeenCalledTimes(1);
    expect(live.offsetCommit).toHaveBeenCalledTimes(2);
  });

  it('also when the broker they knew refuses connections, and several failing at once share one lookup', async () => {
    const live = broker(3, true);
    const c = cluster(live, async () => Promise.reject(refused()));
    const om = offsetManager(broker(2, false), c);
    const found = await Promise.all([om.getCoordinator(), om.getCoordinator()]);
    expect(found).toEqual([live, live]);
    expect(c.findGroupCoordinator).toHaveBeenCalledTimes(1);
  });

  it('ask the cluster nothing while the coordinator is connected', async () => {
    const coordinator = broker(1, true);
    const c = cluster(broker(3, true));
    await offsetManager(coordinator, c).commitOffsets({ topics });
    expect(coordinator.offsetCommit).toHaveBeenCalledTimes(1);
    expect(c.findBroker).not.toHaveBeenCalled();
    expect(c.findGroupCoordinator).not.toHaveBeenCalled();
  });

  it('leave other failures to kafkajs', async () => {
    const other = new KafkaJSProtocolError(Object.assign(new Error('Not authorized to access group'), { type: 'GROUP_AUTHORIZATION_FAILED' }));
    const c = cluster(broker(1, true), async () => Promise.reject(other));
    await expect(offsetManager(broker(2, false), c).commitOffsets({ topics })).rejects.toBe(other);
    expect(c.findGroupCoordinator).not.toHaveBeenCalled();
  });
});

describe("a kafkajs consumer's heartbeats", () => {
  it('go to the group coordinator the cluster names now when the one they knew refuses connections, for the offsets too', async () => {
    const dead = broker(2, false, refused());
    const live = broker(1, true);
    const c = cluster(live);
    const events = emitter();
    const g = consumerGroup(dead, c, events);
    await g.heartbeat({ interval: 0 });
    expect(dead.heartbeat).toHaveBeenCalledTimes(1);
    expect(live.heartbeat).toHaveBeenCalledWith({ groupId: 'qtshop-order-query', memberId: 'order-query-1', groupGenerationId: 7 });
    expect(events.emit).toHaveBeenCalledWith('consumer.heartbeat', expect.anything());
    expect(g.coordinator).toBe(live);
    expect(g.offsetManager!.coordinator).toBe(live);
  });

  it('fail as before when the same broker is still named (kafkajs retries them), with the fresh connection kept', async () => {
    const err = Object.assign(new Error('Request Heartbeat(key: 12, version: 3) timed out'), { name: 'KafkaJSRequestTimeoutError' });
    const slow = broker(2, true, err);
    const reconnected = broker(2, true);
    const g = consumerGroup(slow, cluster(reconnected));
    await expect(g.heartbeat({ interval: 0 })).rejects.toBe(err);
    expect(slow.heartbeat).toHaveBeenCalledTimes(1);
    expect(reconnected.heartbeat).not.toHaveBeenCalled();
    expect(g.coordinator).toBe(reconnected);
  });

  it('fail as before when no coordinator can be found (kafkajs retries them)', async () => {
    const err = refused();
    const dead = broker(2, false, err);
    const g = consumerGroup(dead, cluster(new KafkaJSConnectionError('Failed to connect')));
    await expect(g.heartbeat({ interval: 0 })).rejects.toBe(err);
    expect(g.coordinator).toBe(dead);
  });

  it('pass a rebalance on to kafkajs without asking the cluster', async () => {
    const rebalancing = new KafkaJSProtocolError(Object.assign(new Error('The group is rebalancing'), { type: 'REBALANCE_IN_PROGRESS' }));
    const c = cluster(broker(1, true));
    await expect(consumerGroup(broker(2, true, rebalancing), c).heartbeat({ interval: 0 })).rejects.toBe(rebalancing);
    expect(c.findGroupCoordinator).not.toHaveBeenCalled();
  });
});
