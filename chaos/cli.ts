// npm run chaos [-- --smoke] [--cluster] [--scenarios a,b] [--duration S] [--clients N] [--repair-after MS] [--out DIR]
// Starts the shop (npm start's launcher, which brings the local stack up), runs each scenario under load,
// checks the invariants after each, writes chaos/results/<name>.{json,md} and exits 1 on any violation.
// --cluster runs the scenarios of the clustered stack (npm run test:cluster sets the stack up for them).
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runAsScript } from '@qtshop/shared/platform';
import { loadStackConfig, repoRoot } from '../stack/config';
import { machineInfo, writeReport, type ChaosReport } from './report';
import { runScenario, type RunOptions, type ScenarioResult } from './run';
import { waitConnectorsRunning } from './faults';
import { SCENARIOS } from './scenarios';
import { componentPid, Launcher, membersOf, StandbyRelay, stackUp, waitReady } from './shop';
import { loadConfig } from '@qtshop/shared/platform';
import { shopSettings } from '../scripts/shop';
import { Stores } from './snapshot';

/** The polling scenarios' second relay listens here (npm start's relay has RELAY_PORT, 3010). */
const STANDBY_RELAY_PORT = 3011;

const SMOKE = ['baseline', 'kill-consumer', 'poison-row', 'stale-redelivery', 'refused-dlq'];

const USAGE = `npm run chaos -- [options]

  --smoke              a short run of ${SMOKE.join(', ')} (npm test runs it)
  --cluster            the scenarios of the clustered stack (default with it: ${SCENARIOS.filter((s) => s.cluster)
    .map((s) => s.name)
    .join(', ')});
                       needs STACK_BROKERS >= 3, STACK_CONNECT_WORKERS >= 2, SHOP_REPLICAS >= 2: npm run test:cluster sets them
  --scenarios A,B      scenarios to run (default: all but the cluster and standby ones): ${SCENARIOS.map((s) => s.name).join(', ')}
                       (${SCENARIOS.filter((s) => s.standby)
                         .map((s) => s.name)
                         .join(', ')}: with a PostgreSQL standby, STACK_PG_STANDBY=true, which they set)
  --duration S         load per scenario, seconds (default 60; smoke 10)
  --clients N          concurrent order clients (default 6; smoke 3; cluster 2)
  --repair-after MS    OUTBOX_REPAIR_AFTER_MS of the shop it starts (default 30000, the shop's; smoke 5000)
  --kafka-down S       how long Kafka stays unreachable in kafka-unreachable-polling (default 60)
  --out DIR            results directory (default chaos/results)
`;

const t0 = Date.now();

/** This command again, with more environment; resolves with its exit code. */
function rerun(env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { env: { ...process.env, ...env }, stdio: 'inherit' });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => child.kill(signal));
    child.on('close', (code) => done(code ?? 1));
  });
}
const say = (t: string) => process.stdout.write(`[chaos +${((Date.now() - t0) / 1000).toFixed(0)}s] ${t}\n`);

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      smoke: { type: 'boolean' },
      cluster: { type: 'boolean' },
      scenarios: { type: 'string' },
      duration: { type: 'string' },
      clients: { type: 'string' },
      'repair-after': { type: 'string' },
      'kafka-down': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const smoke = Boolean(values.smoke);
  const cluster = Boolean(values.cluster);
  const names =
    values.scenarios?.split(',').map((s) => s.trim()) ??
    (smoke ? SMOKE : SCENARIOS.filter((s) => Boolean(s.cluster) === cluster && !s.standby).map((s) => s.name));
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) throw new Error(`unknown scenario(s): ${unknown.join(', ')}\n\n${USAGE}`);
  const needsStandby = SCENARIOS.filter((s) => s.standby && names.includes(s.name)).map((s) => s.name);
  if (needsStandby.length && process.env.STACK_PG_STANDBY === undefined) {
    // The stack's shape is read when the modules load: run again with the standby named.
    say(`${needsStandby.join(', ')} need a PostgreSQL standby: running with STACK_PG_STANDBY=true`);
    return rerun({ STACK_PG_STANDBY: 'true' });
  }
  if (needsStandby.length && !membersOf('pg-proxy').length)
    throw new Error(`${needsStandby.join(', ')} need a PostgreSQL standby, and STACK_PG_STANDBY=${process.env.STACK_PG_STANDBY} says there is none`);
  const needsCluster = SCENARIOS.filter((s) => s.cluster && names.includes(s.name)).map((s) => s.name);
  const replicas = loadConfig(shopSettings).SHOP_REPLICAS;
  if (needsCluster.length && (membersOf('kafka').length < 3 || membersOf('connect').length < 2 || replicas < 2))
    throw new Error(
      `${needsCluster.join(', ')} need the clustered stack: STACK_BROKERS >= 3, STACK_CONNECT_WORKERS >= 2 and SHOP_REPLICAS >= 2 (now ${membersOf('kafka').length}, ${membersOf('connect').length}, ${replicas}); npm run test:cluster sets them`,
    );
  const num = (v: string | undefined, d: number) => (v === undefined ? d : Number(v));
  const o: RunOptions = {
    durationMs: num(values.duration, smoke ? 10 : 60) * 1000,
    // The cluster runs twelve services and six JVMs on the machine: two clients keep the stream below its capacity,
    // so the recovery figures measure the loss, not a backlog the load built up anyway.
    clients: num(values.clients, smoke ? 3 : cluster ? 2 : 6),
    products: smoke ? 6 : 20,
    restocked: smoke ? 2 : 4,
    stock: smoke ? 100 : 250,
    keptBaskets: smoke ? 3 : 10,
    lines: 2,
    settleMs: 300_000,
  };
  const repairAfterMs = num(values['repair-after'], smoke ? 5000 : 30_000);
  const kafkaDownMs = num(values['kafka-down'], 60) * 1000;
  for (const [k, v] of Object.entries({ ...o, repairAfterMs, kafkaDownMs }))
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${k} must be a positive number (see --help)`);

  const chosen = SCENARIOS.filter((x) => names.includes(x.name));
  // Interrupted (Ctrl-C, CI's timeout): stop what this run started, and resume a process a fault froze.
  let stopOnSignal = async () => undefined as void;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      say(`${signal}: stopping the shop this run started`);
      for (const c of ['kafka', 'postgres', 'connect'] as const) {
        const pid = componentPid(c);
        if (pid) process.kill(pid, 'SIGCONT');
      }
      void stopOnSignal().finally(() => process.exit(130));
    });
  }
  const stores = new Stores();
  const results: ScenarioResult[] = [];
  const modes: Array<'polling' | 'debezium'> = ['polling', 'debezium']; // debezium last: the shop is left in its default mode
  try {
    for (const mode of modes) {
      const group = chosen.filter((x) => (x.mode ?? 'debezium') === mode);
      if (!group.length) continue;
      const env: NodeJS.ProcessEnv = { RELAY_MODE: mode, OUTBOX_REPAIR_AFTER_MS: String(repairAfterMs) };
      // A killed instance must stay down long enough for the others to take its partitions (the consumers'
      // session timeout is 30 s): npm start restarts it only after a minute, unless told otherwise.
      if (needsCluster.length) env.SHOP_RESTART_BACKOFF_MS = process.env.SHOP_RESTART_BACKOFF_MS || '60000';
      const launcher = new Launcher(env);
      const standby = mode === 'polling' ? new StandbyRelay(STANDBY_RELAY_PORT) : undefined;
      say(`starting the shop (npm start, relay mode ${mode})${standby ? ` and a standby relay on port ${STANDBY_RELAY_PORT}` : ''}`);
      stopOnSignal = async () => {
        await standby?.stop();
        await launcher.stop();
      };
      try {
        await launcher.start(600_000);
        await standby?.start(env);
        for (const s of group) {
          say(`${s.name}: ${s.what}`);
          // A cluster scenario that failed may have left its member down: every member is up before the next.
          if (s.cluster) await stackUp();
          await waitReady(180_000);
          if (mode === 'debezium') await waitConnectorsRunning();
          const r = await runScenario(s, o, { stores, launcher, repairAfterMs, kafkaDownMs, ...(standby ? { standby } : {}) }, say);
          results.push({ ...r, mode });
          say(
            r.status === 'pending'
              ? `${s.name}: PENDING (${r.pending})`
              : `${s.name}: ${r.status.toUpperCase()}: ${r.events} events, lost ${r.lost}, not applied ${r.notApplied}, applied twice ${r.appliedTwice}, order violations ${r.orderViolations}, diverged ${r.diverged},${r.recoveredMs === undefined ? '' : ` recovered in ${(r.recoveredMs / 1000).toFixed(1)} s,`} settled in ${r.settledMs === undefined ? '–' : (r.settledMs / 1000).toFixed(1)} s${r.error ? ` (${r.error})` : ''}`,
          );
          for (const v of r.violations.slice(0, 10)) say(`  ${v.category}: ${v.message}`);
        }
      } finally {
        say('stopping the shop');
        await standby?.stop();
        await launcher.stop();
      }
    }
  } finally {
    await stores.close();
  }
  const report: ChaosReport = {
    startedAt: new Date(t0).toISOString(),
    seconds: Math.round((Date.now() - t0) / 1000),
    command: ['npm run chaos --', ...process.argv.slice(2)].join(' '),
    repairAfterMs,
    options: o,
    machine: machineInfo(),
    results,
  };
  // A failover drill alone has its own files, with and without failover slots.
  const drill = needsStandby.length === names.length ? (loadStackConfig().pgHa.failoverSlots ? 'pg-failover' : 'pg-failover-no-failover-slots') : undefined;
  const files = writeReport(
    values.out ? resolve(values.out) : resolve(repoRoot, 'chaos/results'),
    smoke ? 'smoke' : cluster ? 'cluster' : (drill ?? 'chaos'),
    report,
  );
  say(`results: ${files.md}`);
  const failed = results.filter((r) => r.status === 'failed');
  say(failed.length ? `FAILED: ${failed.map((r) => r.scenario).join(', ')}` : 'every scenario run held every invariant');
  return failed.length ? 1 : 0;
}

runAsScript(import.meta.url, 'chaos', main);
