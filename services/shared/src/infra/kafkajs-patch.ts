// Fixes to kafkajs 2.2.4, applied by createKafka (kafka.ts) before it makes a client: its request queue's
// idle timer loop, and its consumers' hold on a group coordinator that is gone.
import { createRequire } from 'node:module';

const kafkajsModule = createRequire(import.meta.url);

/**
 * kafkajs 2.2.4 (unmaintained since 2023) re-arms its request queue's check after every check, with a
 * delay of `throttledUntil - Date.now()`, about minus the epoch when nothing throttles (throttledUntil
 * starts at -1): each broker connection of every client runs a 1 ms timer loop for as long as it is open
 * (kafkajs issues #1556, #1704, #1751, open upstream), about 900 wake-ups a second in an idle service, and
 * on Node 22+ a TimeoutNegativeWarning. The check only matters while requests wait in the queue (push()
 * arms it when one is queued, a response runs it) or while the broker throttles, so it is armed only then.
 * createKafka patches the queue (once per process) before it makes a client; test/shared/kafka-queue.unit.test.ts
 * checks both halves on kafkajs's own class.
 */
interface KafkajsRequestQueue {
  pending: unknown[];
  throttledUntil: number;
  scheduleCheckPendingRequests(): void;
}
export const RequestQueue = kafkajsModule('kafkajs/src/network/requestQueue/index.js') as { prototype: KafkajsRequestQueue };
let patched = false;

/** Arms the request queue's check only while a request waits or the broker throttles; idempotent. */
export function patchKafkajsRequestQueue(): void {
  if (patched) return;
  patched = true;
  const scheduleCheck = RequestQueue.prototype.scheduleCheckPendingRequests;
  RequestQueue.prototype.scheduleCheckPendingRequests = function scheduleCheckWhenNeeded(this: KafkajsRequestQueue) {
    if (this.pending.length === 0 && this.throttledUntil <= Date.now()) return;
    scheduleCheck.call(this);
  };
}

/**
 * A consumer's group coordinator, in kafkajs 2.2.4 (and its unreleased master), is found when the consumer
 * joins its group and kept until it joins again: heartbeats go to that broker, and offset commits and
 * fetches look it up by its node id (OffsetManager.getCoordinator). When the broker dies, the coordination
 * of the group moves with the leadership of its __consumer_offsets partition to another broker, once the
 * controller has fenced the dead one (broker.session.timeout.ms, 9 s by default), but the consumer keeps
 * asking the dead broker: each commit fails with "Broker n not found in the cached metadata" (the metadata
 * no longer lists it) and each heartbeat with a connection error, until the consumer's retries run out; it
 * then crashes and, after its last retry wait (up to 30 s), restarts as a new member of its group, whose
 * rebalance waits for the old member's session to time out: minutes without consuming, with one of three
 * brokers killed (npm run test:cluster, docs/results.md).
 *
 * Patched: a heartbeat or offset request that cannot reach the coordinator (connection refused or closed,
 * no answer within the request timeout, or its broker gone from the metadata) asks the cluster which broker
 * coordinates the group now (FindCoordinator; kafkajs's cluster retries it while the dead broker is still
 * named) and uses that one from then on, for the heartbeats and the offsets alike: the member keeps its
 * membership and its partitions, and no rebalance happens. A failed heartbeat is sent at once to a new
 * coordinator; otherwise (none found, or the same broker) the error goes on to kafkajs's retries as before.
 * Nothing changes while the coordinator answers. test/shared/kafka-coordinator.unit.test.ts checks it on kafkajs's own classes.
 */
export interface KafkajsCoordinator {
  nodeId?: number;
  isConnected(): boolean;
}
interface KafkajsCluster {
  findBroker(broker: { nodeId?: number }): Promise<KafkajsCoordinator>;
  findGroupCoordinator(o: { groupId: string }): Promise<KafkajsCoordinator>;
}
export interface KafkajsOffsetManager {
  groupId: string;
  coordinator: KafkajsCoordinator;
  cluster: KafkajsCluster;
  getCoordinator(): Promise<KafkajsCoordinator>;
}
export interface KafkajsConsumerGroup {
  groupId: string;
  coordinator: KafkajsCoordinator | null;
  offsetManager: KafkajsOffsetManager | null;
  cluster: KafkajsCluster;
  heartbeat(o: { interval: number }): Promise<void>;
}
export const OffsetManager = kafkajsModule('kafkajs/src/consumer/offsetManager/index.js') as { prototype: KafkajsOffsetManager };
export const ConsumerGroup = kafkajsModule('kafkajs/src/consumer/consumerGroup.js') as { prototype: KafkajsConsumerGroup };

/** kafkajs errors of a coordinator that cannot be reached: refused or closed connections, no answer in time, its broker gone from the metadata. */
const UNREACHABLE = new Set(['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError', 'KafkaJSBrokerNotFound']);
export const coordinatorUnreachable = (err: unknown): boolean => UNREACHABLE.has((err as { name?: string } | undefined)?.name ?? '');

/** One FindCoordinator at a time per consumer group: its heartbeats and commits fail together. */
const finding = new WeakMap<object, Promise<KafkajsCoordinator>>();
function findCoordinator(owner: object, cluster: KafkajsCluster, groupId: string): Promise<KafkajsCoordinator> {
  let found = finding.get(owner);
  if (!found) {
    found = cluster.findGroupCoordinator({ groupId }).finally(() => finding.delete(owner));
    finding.set(owner, found);
  }
  return found;
}

let coordinatorPatched = false;

/** Makes kafkajs consumers find their group's coordinator again when the one they know cannot be reached; idempotent. */
export function patchKafkajsCoordinator(): void {
  if (coordinatorPatched) return;
  coordinatorPatched = true;
  const getCoordinator = OffsetManager.prototype.getCoordinator;
  OffsetManager.prototype.getCoordinator = async function getOrFindCoordinator(this: KafkajsOffsetManager) {
    try {
      return await getCoordinator.call(this);
    } catch (err) {
      if (!coordinatorUnreachable(err)) throw err;
      this.coordinator = await findCoordinator(this, this.cluster, this.groupId);
      return this.coordinator;
    }
  };
  const heartbeat = ConsumerGroup.prototype.heartbeat;
  ConsumerGroup.prototype.heartbeat = async function heartbeatOrFindCoordinator(this: KafkajsConsumerGroup, o: { interval: number }) {
    try {
      return await heartbeat.call(this, o);
    } catch (err) {
      if (!coordinatorUnreachable(err)) throw err;
      const was = this.coordinator?.nodeId;
      // Found means connected (kafkajs's cluster connects to the broker it names, retrying while it cannot).
      const now = await findCoordinator(this, this.cluster, this.groupId).catch(() => undefined);
      if (!now) throw err;
      this.coordinator = now;
      if (this.offsetManager) this.offsetManager.coordinator = now;
      // The same broker still coordinates (it answered too late, or is back): kafkajs's own retry sends it again.
      if (now.nodeId === was) throw err;
      return heartbeat.call(this, o);
    }
  };
}

/**
 * A consumer's fetch that fails, in kafkajs 2.2.4 (ConsumerGroup.recoverFromFetch), is recovered in two ways
 * that cost seconds when a broker dies:
 * - a partition whose leader moved (NOT_LEADER_FOR_PARTITION, LEADER_NOT_AVAILABLE, FENCED_LEADER_EPOCH,
 *   UNKNOWN_LEADER_EPOCH) refreshes the metadata and then joins the group again: a rebalance of every
 *   member, whose uncommitted offsets (commits fail while the dead broker coordinated the group) are
 *   consumed again by their next owner;
 * - a broker that refuses the connection (ECONNREFUSED: it is down) fails the fetch of every broker's
 *   partitions (kafkajs's fetch manager stops all its fetchers), retried after kafkajs's retry wait, and
 *   the metadata, which still names the dead broker as the leader, is not refreshed until it expires.
 *
 * Patched: a moved leader refreshes the metadata and the member keeps its partitions (the group's
 * assignment does not depend on leaders); a refused connection waits `refusedPauseMs`, refreshes the
 * metadata and gives up that broker's fetch only, so the partitions of the live brokers keep flowing and
 * those of the dead one are fetched from their new leaders as soon as the controller has moved them. Other
 * errors (a partition gone, offsets out of range, ...) are kafkajs's as before.
 * test/shared/kafka-broker-loss.unit.test.ts checks it on kafkajs's own ConsumerGroup.
 */
export const LEADER_MOVED = new Set(['LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION', 'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH']);
interface KafkajsFetchingGroup {
  cluster: { refreshMetadata(): Promise<void> };
  recoverFromFetch(e: unknown): Promise<void>;
}
const FetchingGroup = ConsumerGroup as unknown as { prototype: KafkajsFetchingGroup };
let fetchRecoveryPatched = false;

/** Makes a consumer's failed fetch refresh the metadata instead of rejoining its group or stopping every broker's fetch; idempotent. */
export function patchKafkajsFetchRecovery(refusedPauseMs = 500): void {
  if (fetchRecoveryPatched) return;
  fetchRecoveryPatched = true;
  const recoverFromFetch = FetchingGroup.prototype.recoverFromFetch;
  FetchingGroup.prototype.recoverFromFetch = async function recoverByRefreshing(this: KafkajsFetchingGroup, e: unknown) {
    const err = e as { type?: string; name?: string } | undefined;
    if (LEADER_MOVED.has(err?.type ?? '')) return this.cluster.refreshMetadata();
    if (err?.name === 'KafkaJSConnectionError') {
      await new Promise((r) => setTimeout(r, refusedPauseMs));
      // A refresh that fails (every broker away) leaves the next fetch to fail and come back here.
      await this.cluster.refreshMetadata().catch(() => undefined);
      return;
    }
    return recoverFromFetch.call(this, e);
  };
}

/**
 * kafkajs 2.2.4's BrokerPool.withBroker, which asks "any broker" (FindCoordinator, when a consumer looks for
 * its group's coordinator), picks the brokers in a random order and connects to each outside its try: when
 * the pick is a broker that is down (still in the metadata until the controller fences it, and in the
 * client's until its next refresh) the whole call fails with the connection error, and the caller's retry
 * sleeps before trying again (a third of the calls, with one broker of three lost).
 *
 * Patched: the brokers already connected are asked first, and a broker that cannot be connected to is
 * skipped for the next one; the call fails as before only when none answers.
 * test/shared/kafka-broker-loss.unit.test.ts checks it on kafkajs's own BrokerPool.
 */
interface KafkajsBrokerPool {
  brokers: Record<string, { isConnected(): boolean }>;
  findBroker(o: { nodeId: string }): Promise<unknown>;
  withBroker<T>(callback: (o: { nodeId: string; broker: unknown }) => Promise<T>): Promise<T | null>;
}
export const BrokerPool = kafkajsModule('kafkajs/src/cluster/brokerPool.js') as { prototype: KafkajsBrokerPool };
let withBrokerPatched = false;

/** Makes "ask any broker" try the connected brokers first and skip those that cannot be reached; idempotent. */
export function patchKafkajsWithBroker(): void {
  if (withBrokerPatched) return;
  withBrokerPatched = true;
  const withBroker = BrokerPool.prototype.withBroker;
  BrokerPool.prototype.withBroker = async function withReachableBroker<T>(
    this: KafkajsBrokerPool,
    callback: (o: { nodeId: string; broker: unknown }) => Promise<T>,
  ) {
    const ids = Object.keys(this.brokers);
    if (ids.length === 0) return withBroker.call(this, callback) as Promise<T | null>; // kafkajs's own error
    const shuffled = ids.map((id) => ({ id, r: Math.random() })).sort((a, b) => a.r - b.r);
    const ordered = [...shuffled.filter((b) => this.brokers[b.id]!.isConnected()), ...shuffled.filter((b) => !this.brokers[b.id]!.isConnected())];
    let reached = false;
    let unreachable: unknown;
    for (const { id } of ordered) {
      let broker: unknown;
      try {
        broker = await this.findBroker({ nodeId: id });
      } catch (err) {
        unreachable = err;
        continue;
      }
      reached = true;
      try {
        return await callback({ nodeId: id, broker });
      } catch {
        // as kafkajs: the next broker
      }
    }
    // No broker could be reached: the connection error, as kafkajs throws it; reached ones that failed: kafkajs's null.
    if (!reached) throw unreachable;
    return null;
  };
}
