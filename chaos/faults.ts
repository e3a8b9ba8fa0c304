// What a chaos scenario is, and the helpers its faults share (chaos/scenarios.ts, chaos/polling-scenarios.ts).
// A fault returns when it has healed (the process is back and ready, the connector re-registered, the
// poison row quarantined); the load goes on for a while after that, then the invariants must come to hold
// within the settle time.
import { waitUntil } from '@qtshop/shared/platform';
import { loadInfra } from '@qtshop/shared/infra';
import { ConnectClient, connectorFiles, readConnectorFile } from '@qtshop/shared/delivery';
import type { Load, LoadOptions } from './load';
import { componentPid, instanceUrls, stackUp, waitReady, type Launcher, type StackComponent, type StandbyRelay } from './shop';
import type { Stores } from './snapshot';
import type { Violation } from './invariants';
import { stopPid } from '../stack/procs';

export interface FaultContext {
  stores: Stores;
  launcher: Launcher;
  /** The second relay of a polling-mode run. */
  standby?: StandbyRelay;
  load: Load;
  repairAfterMs: number;
  kafkaDownMs: number;
  note: (text: string) => void;
}

export interface FaultResult {
  /** Event ids made poison on purpose: they must end quarantined, not delivered. */
  expectedQuarantined?: string[];
  /** Event ids the scenario published on the shop topics itself, from no outbox (versions-consistent leaves them out). */
  injected?: string[];
  /** A check of its own, run once the invariants hold. */
  after?: () => Promise<Violation[]>;
  /** From the fault to the pipeline carrying on (what that means is the scenario's; its notes say). */
  recoveredMs?: number;
}

export interface Scenario {
  name: string;
  /** The relay mode npm start runs in for it (default debezium); polling runs add a standby relay. */
  mode?: 'debezium' | 'polling';
  /** Load settings of its own (e.g. larger orders). */
  load?: Partial<LoadOptions>;
  what: string;
  /** Why it cannot run yet (a prerequisite that has not landed, or not built): reported, never skipped silently. */
  pending?: string;
  /** Needs the clustered stack and several instances per service (npm run test:cluster); not in a plain run. */
  cluster?: boolean;
  /** Needs a PostgreSQL standby (STACK_PG_STANDBY): npm run chaos sets it when such a scenario is chosen; not in a plain run. */
  standby?: boolean;
  fault: (ctx: FaultContext) => Promise<FaultResult>;
}

const connect = () => ConnectClient.of(loadInfra().connect);

const connectorNames = () => connectorFiles().map((f) => readConnectorFile(f).name);

/** Every connector of connect-config/ is RUNNING with all its tasks. */
export async function waitConnectorsRunning(timeoutMs = 120_000): Promise<void> {
  const c = connect();
  await waitUntil(async () => (await Promise.all(connectorNames().map((n) => c.isRunning(n).catch(() => false)))).every(Boolean), {
    timeoutMs,
    everyMs: 500,
    what: 'every connector RUNNING',
  });
}

/** The sum of a counter over its series on the /metrics at `url` (0 when absent). */
export async function counterAt(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** The sum of a counter over its series on the /metrics of every instance of a service (0 when absent). */
export async function metricSum(service: 'relay', name: string): Promise<number> {
  const sums = await Promise.all(instanceUrls(service).map((url) => counterAt(url, name)));
  return sums.reduce((a, b) => a + b, 0);
}

export async function killComponent(c: StackComponent, signal: NodeJS.Signals, downMs: number, ctx: FaultContext): Promise<void> {
  const pid = componentPid(c);
  if (!pid) throw new Error(`${c} is not running`);
  ctx.note(`${signal} ${c} (pid ${pid}); down for ${downMs / 1000} s`);
  await stopPid(pid, signal, 60_000);
  await new Promise((r) => setTimeout(r, downMs));
  await stackUp();
}

export const healthy = async () => {
  await waitReady(180_000);
  await waitConnectorsRunning();
};
