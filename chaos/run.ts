// One scenario: note where the topics end, set up the run's products, start the load, inject the fault
// a quarter of the way in, keep the load going until the duration is over (and a while after the fault
// healed), then wait until every invariant holds, or report what still does not after the settle time.
import { waitUntil } from '@qtshop/shared/platform';
import { checkAll, countOf, type Checked, type Violation } from './invariants';
import { emptyStats, runLoad, setUp, type LoadOptions, type LoadStats } from './load';
import type { FaultContext, Scenario } from './faults';
import { startOffsets, takeSnapshot, type RunScope, type Stores } from './snapshot';

export interface RunOptions extends LoadOptions {
  durationMs: number;
  /** Longest wait, after the load stops, for every invariant to hold. */
  settleMs: number;
}

export interface ScenarioResult {
  scenario: string;
  mode?: 'debezium' | 'polling';
  what: string;
  status: 'passed' | 'failed' | 'pending';
  pending?: string;
  events: number;
  lost: number;
  notApplied: number;
  duplicatesDelivered: number;
  appliedTwice: number;
  orderViolations: number;
  /** Copies ahead of their owner, or events on Kafka their outbox lost (versions went backwards). */
  versionsBackwards: number;
  diverged: number;
  quarantined: number;
  /** From the end of the load (the fault healed before) to every invariant holding (ms). */
  settledMs?: number;
  /** How long the fault took to inject and heal (ms). */
  faultMs?: number;
  /** From the fault to the pipeline carrying on, where the scenario measures it (ms). */
  recoveredMs?: number;
  load: LoadStats;
  notes: string[];
  /** The violations left when it failed (the first 30). */
  violations: Violation[];
  error?: string;
}

const pendingResult = (s: Scenario): ScenarioResult => ({
  scenario: s.name,
  what: s.what,
  status: 'pending',
  pending: s.pending!,
  events: 0,
  lost: 0,
  notApplied: 0,
  duplicatesDelivered: 0,
  appliedTwice: 0,
  orderViolations: 0,
  versionsBackwards: 0,
  diverged: 0,
  quarantined: 0,
  load: emptyStats(),
  notes: [],
  violations: [],
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export async function runScenario(s: Scenario, o: RunOptions, ctx: Omit<FaultContext, 'load' | 'note'>, say: (text: string) => void): Promise<ScenarioResult> {
  if (s.pending) return pendingResult(s);
  o = { ...o, ...s.load };
  const notes: string[] = [];
  const note = (t: string) => (notes.push(t), say(`  ${t}`));
  const stats = emptyStats();
  let offsets: Awaited<ReturnType<typeof startOffsets>>;
  let load: Awaited<ReturnType<typeof setUp>>;
  try {
    offsets = await startOffsets(ctx.stores.kafka);
    load = await setUp(ctx.stores, o, stats);
  } catch (err) {
    return { ...pendingResult(s), status: 'failed', pending: undefined, load: stats, error: `setting up failed: ${(err as Error).message}` };
  }
  const ac = new AbortController();
  const started = Date.now();
  const loadDone = runLoad(load, o, stats, ac.signal);
  let faultMs: number | undefined;
  let fault: Awaited<ReturnType<Scenario['fault']>> = {};
  let error: string | undefined;
  try {
    await sleep(o.durationMs / 4);
    const t = Date.now();
    fault = await s.fault({ ...ctx, load, note });
    const healedAt = Date.now();
    faultMs = healedAt - t;
    await sleep(Math.max(started + o.durationMs, healedAt + o.durationMs / 4) - Date.now());
  } catch (err) {
    error = `the fault failed: ${(err as Error).message}`;
  } finally {
    ac.abort();
    await loadDone;
  }
  const loadEnded = Date.now();
  note(
    `load: ${stats.ordersPlaced} orders placed (${stats.cancels} cancelled by their shopper, ${stats.refills} baskets refilled after ordering), ${stats.priceChanges} price changes, ${stats.restocks} restocks, ${stats.adjustments} stock adjustments; ${stats.deferred} deferred (503 with Retry-After: overloaded or unavailable), ${stats.failed} requests failed during the fault`,
  );

  const scope: RunScope = { ...load.scope, startOffsets: offsets, expectedQuarantined: fault.expectedQuarantined ?? [], injected: fault.injected ?? [] };
  let checked: Checked = { events: 0, duplicatesDelivered: 0, quarantined: 0, violations: [] };
  let settledMs: number | undefined;
  if (!error) {
    const ok = await waitUntil(
      async () => {
        checked = checkAll(await takeSnapshot(ctx.stores, scope));
        return checked.violations.length === 0;
      },
      { timeoutMs: o.settleMs, everyMs: 2000, what: 'every invariant to hold' },
    ).then(
      () => true,
      (err: Error) => {
        // Violations left (reported below), or the stores could not be read at all.
        if (checked.violations.length === 0) error = `the invariants could not be checked: ${err.message}`;
        return false;
      },
    );
    if (ok && checked.events === 0) error = 'no event of the run was found on the topics';
    if (ok) {
      settledMs = Date.now() - loadEnded;
      const extra = (await fault.after?.()) ?? [];
      checked = { ...checked, violations: [...checked.violations, ...extra] };
    }
  }
  return {
    scenario: s.name,
    what: s.what,
    status: error || checked.violations.length ? 'failed' : 'passed',
    events: checked.events,
    lost: countOf(checked, 'lost'),
    notApplied: countOf(checked, 'not_applied'),
    duplicatesDelivered: checked.duplicatesDelivered,
    appliedTwice: countOf(checked, 'applied_twice', 'stock'),
    orderViolations: countOf(checked, 'order'),
    versionsBackwards: countOf(checked, 'backwards'),
    diverged: countOf(checked, 'diverged', 'unsettled'),
    quarantined: checked.quarantined,
    ...(settledMs !== undefined ? { settledMs } : {}),
    ...(faultMs !== undefined ? { faultMs } : {}),
    ...(fault.recoveredMs !== undefined ? { recoveredMs: fault.recoveredMs } : {}),
    load: stats,
    notes,
    violations: checked.violations.slice(0, 30),
    ...(error ? { error } : {}),
  };
}
