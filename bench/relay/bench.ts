// One benchmark: the bench database, topic and consumer set up once, then every configuration of every
// relay asked for (runner.ts), then the results written (JSON, table, chart).
import { randomUUID } from 'node:crypto';
import { createDb, createKafka, loadInfra, type Knex } from '@qtshop/shared/infra';
import { ConnectClient } from '@qtshop/shared/delivery';
import { LoadWatch, machineInfo } from '../lib/machine';
import { Progress } from '../lib/progress';
import { recordedOptions, writeReport, type ReportFiles } from '../lib/report';
import type { AdapterContext } from './adapter';
import { DEBEZIUM_VARIANTS, type RelayBenchOptions } from './options';
import { evaluateTargets, relayReport } from './report';
import type { RelayBenchResults, RunResult } from './results';
import { RELAYS } from './relays';
import { runSetup, Status, type RunnerContext } from './runner';
import { freshTopic, prepareDatabase } from './setup';
import { now, startConsumer, Tracker, type ConsumerWorker } from './tracker';
import { dbWriter, eventFactory } from './writers';

export interface RelayBenchOutput {
  results: RelayBenchResults;
  files: ReportFiles;
}

/** How many runs the options ask for: each configuration of each relay runs every rate and the drain. */
function planRuns(o: RelayBenchOptions): number {
  const perSetup = o.rates.length + (o.backlog > 0 ? 1 : 0);
  return o.relays.reduce((n, k) => n + perSetup * RELAYS[k].setups(o).length, 0);
}

export async function runRelayBench(opts: RelayBenchOptions, signal?: AbortSignal): Promise<RelayBenchOutput> {
  const startedWall = new Date();
  const load = new LoadWatch();
  const t0 = now();
  const infra = loadInfra();
  const progress = new Progress(opts.progress);
  const aggregatePrefix = `${opts.db}.`;
  const aggregateType = `${aggregatePrefix}product`;
  const topic = `qtshop.${aggregateType}`;
  const connect = ConnectClient.of(infra.connect);
  const tracker = new Tracker();
  const runs: RunResult[] = [];
  const notes: string[] = [];
  const status = new Status(progress, planRuns(opts), t0);
  const ticker = setInterval(() => status.update(), 250);

  const admin = createDb(infra, 'postgres', { max: 1 });
  const kafka = createKafka(infra.kafka, `bench-relay-${opts.db}`);
  const groupId = `bench-relay-${randomUUID()}`;
  let db: Knex | undefined;
  let meta: Knex | undefined;
  let consumer: ConsumerWorker | undefined;
  try {
    status.phase = 'preparing the database, topic and consumer';
    status.update(true);
    for (const relay of Object.values(RELAYS)) await relay.cleanLeftovers?.({ connect, admin, db: opts.db });
    await prepareDatabase(infra, opts.db, aggregatePrefix);
    db = createDb(infra, opts.db, { max: opts.concurrency });
    meta = createDb(infra, opts.db, { max: 1 });
    await freshTopic(kafka, topic);
    consumer = await startConsumer(
      { brokers: infra.kafka.brokers, sasl: infra.kafka.sasl, topic, groupId, clientId: `bench-relay-consumer-${opts.db}` },
      tracker,
    );

    const newEvent = eventFactory(opts.payloadBytes);
    const write = dbWriter(db, tracker, newEvent);
    const phase = (what: string) => (status.phase = what);
    const ctx: AdapterContext = { opts, db, meta, admin, connect, kafka, topic, aggregateType, tracker, newEvent, write, notes, phase };
    const runner: RunnerContext = { opts, infra, tracker, write, status, progress, runs, notes, signal };
    for (const kind of opts.relays) {
      for (const setup of RELAYS[kind].setups(opts)) await runSetup(runner, RELAYS[kind], setup(ctx));
    }
  } finally {
    clearInterval(ticker);
    status.phase = 'cleaning up';
    status.update(true);
    await consumer?.stop().catch(() => undefined);
    const kadmin = kafka.admin();
    await kadmin
      .connect()
      .then(() => kadmin.deleteGroups([groupId]))
      .catch(() => undefined)
      .finally(() => kadmin.disconnect());
    await db?.destroy();
    await meta?.destroy();
    await admin.destroy();
    progress.clear();
  }

  const results: RelayBenchResults = {
    name: opts.name,
    startedAt: startedWall.toISOString(),
    finishedAt: new Date().toISOString(),
    durationS: Math.round((now() - t0) / 100) / 10,
    command: opts.command,
    machine: { ...machineInfo(), maxLoad: Math.round(load.stop() * 100) / 100 },
    options: recordedOptions(opts),
    topic,
    debeziumVariants: Object.fromEntries(opts.debeziumVariants.map((v) => [v, DEBEZIUM_VARIANTS[v]!])),
    runs,
    foreign: tracker.foreign,
    targets: evaluateTargets(runs, opts),
    notes,
  };
  // Duplicates can arrive after their run was summarised: count them again now.
  for (const r of results.runs) r.duplicated = countDuplicates(tracker, r.scenario);
  return { results, files: await writeReport(opts.outDir, opts.name, results, relayReport) };
}

function countDuplicates(tracker: Tracker, scenario: string): number {
  let dup = 0;
  for (const t of tracker.events.values()) if (t.run.label === scenario && t.count > 1) dup += t.count - 1;
  return dup;
}
