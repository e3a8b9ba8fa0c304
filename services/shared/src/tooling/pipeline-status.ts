// The whole pipeline on one page (`npm run status`): per outbox database the relay mode, connector and
// task state, replication slot and retained WAL, undelivered rows and the age of the oldest, quarantined
// rows; per consumer group its lag per topic partition; per dead-letter topic its depth; the orders waiting
// for their stock decision; per service its /ready. Each part is observed on its own, so one unreachable
// component is reported, not fatal; each item gets a level (ok, warn, bad) and a sentence per problem.
import { judgePgNodes, type PgNodeState } from './pg-nodes';
import type { Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import type { ConnectClient } from '../delivery/connect';
import type { ConnectorConfig } from '../delivery/connector-files';
import { describeDrift } from '../delivery/connector-drift';
import { observeConsumerGroups, observeDeadLetters, type DeadLetterDepth, type GroupLag } from '../delivery/kafka-lag';
import { observeOutbox, type OutboxObservation } from '../delivery/outbox-health';

export type Level = 'ok' | 'warn' | 'bad';

/** Retained WAL above this is flagged (half of the stack's max_slot_wal_keep_size, 2 GB; the alert rule uses the same). */
export const SLOT_WAL_WARN_BYTES = 1024 ** 3;

export interface StatusSources {
  /** The PostgreSQL nodes behind the primary's address, when the settings name them (STACK_PG_STANDBY). */
  pgNodes?: () => Promise<PgNodeState[]>;
  /** The relay mode the settings say (RELAY_MODE); the running relay's own answer wins when it gives one. */
  relayMode: string;
  databases: string[];
  db: (database: string) => Knex;
  connect: ConnectClient;
  /** Connector files by the database they serve. */
  connectors: Map<string, ConnectorConfig>;
  kafka: Kafka;
  groups: string[];
  /** Topics whose dead-letter topic (<topic>.dlq) is reported. */
  dlqTopics: string[];
  /** Each service's base URL; the one named `relay` also tells the relay mode (/health). */
  services: Array<{ name: string; url: string }>;
  /** An undelivered row older than this is a warning (OUTBOX_REPAIR_AFTER_MS: the repair should have sent it). */
  repairAfterMs: number;
  /** … and older than this a failure (OUTBOX_READY_MAX_AGE_MS, the relay's /ready limit). */
  readyMaxAgeMs: number;
  /** Per HTTP request (/ready, /health). */
  httpTimeoutMs?: number;
  /**
   * Order-command's database and how to read its pending orders; the oldest older than warnAfterMs is a
   * warning, older than failAfterMs a failure (STATUS_ORDER_PENDING_WARN_MS, STATUS_ORDER_PENDING_FAIL_MS).
   */
  orders: { database: string; observe: () => Promise<PendingOrdersObservation>; warnAfterMs: number; failAfterMs: number };
}

/** The orders placed whose stock decision has not been appended yet (order-command's pending_orders). */
export interface PendingOrdersObservation {
  pending: number;
  /** Seconds since the oldest was placed; 0 when none is pending. */
  oldestPendingS: number;
  oldestOrderId?: string;
}

export type OutboxStatus = { database: string; level: Level; problems: string[] } & (OutboxObservation | { error: string });
export type GroupStatus = GroupLag & { level: Level; problems: string[] };
export type DeadLetterStatus = DeadLetterDepth & { level: Level; problems: string[] };
export type OrdersStatus = { database: string; level: Level; problems: string[] } & (PendingOrdersObservation | { error: string });
export interface ServiceStatus {
  service: string;
  url: string;
  level: Level;
  /** HTTP status of /ready; null when the service did not answer. */
  status: number | null;
  checks?: Record<string, string>;
  problems: string[];
}

export interface PipelineStatus {
  at: string;
  relayMode: { mode: string; from: 'relay' | 'settings' };
  outboxes: OutboxStatus[];
  consumerGroups: GroupStatus[];
  deadLetters: DeadLetterStatus[];
  orders: OrdersStatus;
  services: ServiceStatus[];
  /** Each PostgreSQL node's role, lag and slot copies (a stack with a standby), with what is wrong. */
  pgNodes?: { nodes: PgNodeState[]; problems: Array<[Level, string]> };
  /** What Kafka could not tell (it was unreachable): groups and dead letters are then empty. */
  kafkaError?: string;
  level: Level;
  /** Every problem, worst first, as "<where>: <sentence>". */
  problems: Array<{ level: Level; where: string; message: string }>;
}

const worst = (levels: Level[]): Level => (levels.includes('bad') ? 'bad' : levels.includes('warn') ? 'warn' : 'ok');
/** An error's message, without the SQL knex puts in front of PostgreSQL's own message. */
const message = (err: unknown) => (err instanceof Error ? err.message.replace(/^(select|insert|update|delete) .* - /s, '') : String(err));

/** Judges one outbox database's observation in `mode`. */
export function judgeOutbox(
  o: OutboxObservation,
  mode: string,
  t: { repairAfterMs: number; readyMaxAgeMs: number },
): { level: Level; problems: Array<[Level, string]> } {
  const p: Array<[Level, string]> = [];
  const c = o.connector;
  if (mode === 'debezium' && c) {
    if (c.state === 'FAILED' || c.state === 'MISSING' || c.state === 'UNREACHABLE')
      p.push(['bad', `connector ${c.name} is ${c.state}${c.detail ? ` (${c.detail})` : ''}; the relay's repair publishes meanwhile`]);
    else if (c.state !== 'RUNNING')
      p.push(['warn', `connector ${c.name} is ${c.state}${c.detail ? ` (${c.detail})` : ''}; the relay's repair publishes meanwhile`]);
  }
  // Whatever the mode: a drifted router sends every event to the wrong place, and repair cannot tell.
  if (c?.drift?.length)
    p.push([
      'bad',
      `connector ${c.name}'s configuration differs from connect-config/${c.name}.json: ${describeDrift(c.drift)}; the active relay restores it unless CONNECT_RESTORE_DRIFT=false`,
    ]);
  if (mode === 'polling' && c && c.state !== 'MISSING' && c.state !== 'UNREACHABLE')
    p.push(['warn', `connector ${c.name} is registered (${c.state}) although the relay is in polling mode`]);
  const s = o.slot;
  if (s?.walStatus === 'lost') p.push(['bad', `replication slot ${s.name} was invalidated (wal_status lost)`]);
  if (s?.exists && s.retainedBytes > SLOT_WAL_WARN_BYTES) p.push(['warn', `replication slot ${s.name} retains ${formatBytes(s.retainedBytes)} of WAL`]);
  if (mode === 'debezium' && s && !s.exists) p.push(['warn', `replication slot ${s.name} does not exist`]);
  if (mode === 'polling' && s?.exists) p.push(['warn', `replication slot ${s.name} exists in polling mode and holds back WAL; npm run connect -- delete`]);
  const ageMs = o.oldestUnconfirmedS * 1000;
  if (ageMs > t.readyMaxAgeMs)
    p.push(['bad', `the oldest undelivered row is ${formatAge(o.oldestUnconfirmedS)} old (limit ${formatAge(t.readyMaxAgeMs / 1000)})`]);
  else if (ageMs > t.repairAfterMs) p.push(['warn', `the oldest undelivered row is ${formatAge(o.oldestUnconfirmedS)} old`]);
  if (o.misrouted > 0)
    p.push([
      'bad',
      `${o.misrouted} undelivered row(s) whose record was seen on a wrong topic or with a wrong key; the repair publishes them to their own topic`,
    ]);
  if (o.quarantined > 0) p.push(['warn', `${o.quarantined} quarantined row(s): npm run outbox -- quarantined`]);
  return { level: worst(p.map(([l]) => l)), problems: p };
}

/** Judges the pending orders: their oldest's age against the limits; how many wait is not a problem by itself. */
export function judgeOrders(o: PendingOrdersObservation, t: { warnAfterMs: number; failAfterMs: number }): { level: Level; problems: Array<[Level, string]> } {
  const ageMs = o.oldestPendingS * 1000;
  const level: Level = o.pending > 0 && ageMs > t.failAfterMs ? 'bad' : o.pending > 0 && ageMs > t.warnAfterMs ? 'warn' : 'ok';
  if (level === 'ok') return { level, problems: [] };
  const limit = level === 'bad' ? ` (limit ${formatAge(t.failAfterMs / 1000)})` : '';
  return {
    level,
    problems: [
      [level, `order ${o.oldestOrderId ?? '?'} has waited ${formatAge(o.oldestPendingS)} for its stock decision${limit}; ${o.pending} order(s) pending`],
    ],
  };
}

export function judgeGroup(g: GroupLag): { level: Level; problems: Array<[Level, string]> } {
  const p: Array<[Level, string]> = [];
  if (g.state === 'Dead') p.push(['warn', 'unknown to Kafka: it has never consumed']);
  else if (g.members === 0 && g.lag > 0) p.push(['bad', `no member is consuming and ${g.lag} message(s) wait`]);
  else if (g.members === 0) p.push(['warn', 'no member is consuming']);
  else if (g.lag > 0) p.push(['warn', `${g.lag} message(s) not consumed yet`]);
  return { level: worst(p.map(([l]) => l)), problems: p };
}

export function judgeDeadLetters(d: DeadLetterDepth): { level: Level; problems: Array<[Level, string]> } {
  const p: Array<[Level, string]> = d.pending > 0 ? [['bad', `${d.pending} dead-lettered message(s) not redriven: npm run dlq -- list ${d.topic}`]] : [];
  return { level: worst(p.map(([l]) => l)), problems: p };
}

async function getJson(url: string, timeoutMs: number): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
  } catch {
    return { status: res.status, body: undefined };
  }
}

async function serviceStatus(s: { name: string; url: string }, timeoutMs: number): Promise<ServiceStatus> {
  try {
    const { status, body } = await getJson(`${s.url}/ready`, timeoutMs);
    const checks = (body?.checks ?? undefined) as Record<string, string> | undefined;
    const failing = Object.entries(checks ?? {}).filter(([, v]) => v !== 'ok');
    // 200 with a check `degraded: …` (the relay's quarantined rows): a warning, named.
    const problems = failing.length ? failing.map(([k, v]) => `${k} ${v}`) : status === 200 ? [] : [`/ready answered ${status}`];
    const level: Level = status !== 200 ? 'bad' : failing.length ? 'warn' : 'ok';
    return { service: s.name, url: s.url, level, status, ...(checks ? { checks } : {}), problems };
  } catch (err) {
    return { service: s.name, url: s.url, level: 'bad', status: null, problems: [`not reachable at ${s.url} (${message(err)})`] };
  }
}

async function relayModeOf(src: StatusSources, timeoutMs: number): Promise<PipelineStatus['relayMode']> {
  const relay = src.services.find((s) => s.name === 'relay');
  const answer = relay ? await getJson(`${relay.url}/health`, timeoutMs).catch(() => undefined) : undefined;
  const mode = answer?.body?.mode;
  return typeof mode === 'string' ? { mode, from: 'relay' } : { mode: src.relayMode, from: 'settings' };
}

async function kafkaParts(src: StatusSources): Promise<{ groups: GroupLag[]; deadLetters: DeadLetterDepth[] }> {
  const admin = src.kafka.admin();
  await admin.connect();
  try {
    const [groups, deadLetters] = await Promise.all([observeConsumerGroups(admin, src.groups), observeDeadLetters(admin, src.dlqTopics)]);
    return { groups, deadLetters };
  } finally {
    await admin.disconnect();
  }
}

/** Observes everything `src` names, concurrently, and judges it. */
export async function collectPipelineStatus(src: StatusSources): Promise<PipelineStatus> {
  const timeoutMs = src.httpTimeoutMs ?? 3000;
  const [relayMode, services, kafka, observed, pendingOrders, pgNodes] = await Promise.all([
    relayModeOf(src, timeoutMs),
    Promise.all(src.services.map((s) => serviceStatus(s, timeoutMs))),
    kafkaParts(src).then(
      (v) => ({ ...v, error: undefined }),
      (err: unknown) => ({ groups: [], deadLetters: [], error: message(err) }),
    ),
    Promise.all(
      src.databases.map((database) =>
        observeOutbox(src.db(database), src.connect, src.connectors.get(database)).then(
          (o): OutboxObservation | { error: string } => o,
          (err: unknown) => ({ error: message(err) }),
        ),
      ),
    ),
    src.orders.observe().then(
      (o): PendingOrdersObservation | { error: string } => o,
      (err: unknown) => ({ error: message(err) }),
    ),
    src.pgNodes?.(),
  ]);
  const all: PipelineStatus['problems'] = [];
  const note = (where: string, ps: Array<[Level, string]>) => ps.forEach(([level, m]) => all.push({ level, where, message: m }));
  const outboxes = src.databases.map((database, i): OutboxStatus => {
    const o = observed[i]!;
    const { level, problems } =
      'error' in o ? { level: 'bad' as const, problems: [['bad', `not observable: ${o.error}`] as [Level, string]] } : judgeOutbox(o, relayMode.mode, src);
    note(`outbox ${database}`, problems);
    return { database, level, problems: problems.map(([, m]) => m), ...o };
  });
  const consumerGroups = kafka.groups.map((g): GroupStatus => {
    const { level, problems } = judgeGroup(g);
    note(`group ${g.group}`, problems);
    return { ...g, level, problems: problems.map(([, m]) => m) };
  });
  const deadLetters = kafka.deadLetters.map((d): DeadLetterStatus => {
    const { level, problems } = judgeDeadLetters(d);
    note(`dead letters ${d.dlqTopic}`, problems);
    return { ...d, level, problems: problems.map(([, m]) => m) };
  });
  const judgedOrders =
    'error' in pendingOrders
      ? { level: 'bad' as const, problems: [['bad', `not observable: ${pendingOrders.error}`] as [Level, string]] }
      : judgeOrders(pendingOrders, src.orders);
  note(`orders ${src.orders.database}`, judgedOrders.problems);
  const orders: OrdersStatus = {
    database: src.orders.database,
    level: judgedOrders.level,
    problems: judgedOrders.problems.map(([, m]) => m),
    ...pendingOrders,
  };
  if (kafka.error) note('kafka', [['bad', `unreachable: ${kafka.error}`]]);
  const pgProblems = pgNodes ? judgePgNodes(pgNodes) : [];
  note('postgres nodes', pgProblems);
  for (const s of services)
    note(
      `service ${s.service}`,
      s.problems.map((m): [Level, string] => [s.level, m]),
    );
  all.sort((a, b) => (a.level === b.level ? 0 : a.level === 'bad' ? -1 : b.level === 'bad' ? 1 : 0));
  return {
    at: new Date().toISOString(),
    relayMode,
    ...(pgNodes ? { pgNodes: { nodes: pgNodes, problems: pgProblems } } : {}),
    outboxes,
    consumerGroups,
    deadLetters,
    orders,
    services,
    ...(kafka.error ? { kafkaError: kafka.error } : {}),
    level: worst(all.map((p) => p.level)),
    problems: all,
  };
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

export function formatAge(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}
