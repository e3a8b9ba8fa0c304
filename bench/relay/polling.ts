// The polling relay (services/relay in polling mode), created in this process per interval and per drain.
import { createLogger } from '@qtshop/shared/platform';
import type { Knex } from '@qtshop/shared/infra';
import { OUTBOX_TABLE } from '@qtshop/shared/outbox';
import { loadRelayConfig } from '../../services/relay/src/config';
import { RELAY_APPLICATION_NAME } from '../../services/relay/src/lease';
import { createRelay, type Relay } from '../../services/relay/src/relay';
import type { AdapterContext, RelayAdapter, RelaySetup } from './adapter';
import { calls, closeWindow, execMs, openWindow, statements, type CloseCost } from './cost';
import type { DbCost } from './results';

async function pollingBackendPid(meta: Knex, db: string): Promise<number | undefined> {
  const row = await meta('pg_stat_activity').where({ datname: db, application_name: RELAY_APPLICATION_NAME }).first<{ pid: number } | undefined>('pid');
  return row?.pid;
}

/** Polls and batches from the relay's counters; its SELECT and UPDATE from pg_stat_statements. */
async function pollingCost(meta: Knex, db: string, relay: () => Relay | undefined, fresh: boolean): Promise<CloseCost> {
  const findPid = () => pollingBackendPid(meta, db);
  const window = await openWindow(meta, findPid, fresh);
  const s0 = relay()?.pollers[0]?.stats();
  const stats = fresh ? { polls: 0, batches: 0 } : s0 ? { polls: s0.polls, batches: s0.batches } : null;
  return async (events) => {
    const { seconds, backendCpuPct, backendCpuMsPer1k } = await closeWindow(window, findPid, events);
    const s = relay()?.pollers[0]?.stats();
    if (!s || !stats) return { pollsPerS: 0, batchesPerS: 0, statementsPerS: 0, pgss: null, sqlMsPerS: null, backendCpuPct, backendCpuMsPer1k };
    const polls = s.polls - stats.polls;
    const batches = s.batches - stats.batches;
    let pgss: DbCost['pgss'] = null;
    try {
      const rows = await statements(meta);
      const sel = rows.filter((r) => /from outbox\s+where sent_at is null/i.test(r.query));
      const upd = rows.filter((r) => /^update outbox set sent_at/i.test(r.query.trim()));
      pgss = { selectCalls: calls(sel), updateCalls: calls(upd), execMs: execMs([...sel, ...upd]) };
    } catch {
      pgss = null;
    }
    return {
      pollsPerS: polls / seconds,
      batchesPerS: batches / seconds,
      statementsPerS: (3 * polls + batches) / seconds,
      pgss,
      sqlMsPerS: pgss ? pgss.execMs / seconds : null,
      backendCpuPct,
      backendCpuMsPer1k,
    };
  };
}

function pollingSetup(ctx: AdapterContext, interval: number): RelaySetup {
  const { opts } = ctx;
  const label = `polling ${interval} ms`;
  let relay: Relay | undefined;
  const startRelay = async () => {
    const config = {
      RELAY_PORT: 0,
      RELAY_MODE: 'polling' as const,
      OUTBOX_DATABASES: [opts.db],
      OUTBOX_POLL_INTERVAL_MS: interval,
      OUTBOX_BATCH_SIZE: opts.batchSize,
    };
    relay = createRelay({ ...loadRelayConfig(), ...config }, { log: createLogger('bench-relay', 'silent') });
    await relay.start();
  };
  const stopRelay = async () => {
    const r = relay;
    relay = undefined;
    const s = r?.pollers[0]?.stats();
    if (s?.errors) ctx.notes.push(`${label}: the polling relay reported ${s.errors} failed poll(s); last: ${s.lastError}`);
    await r?.stop();
  };
  return {
    variant: `${interval} ms`,
    label,
    settings: { OUTBOX_POLL_INTERVAL_MS: String(interval), OUTBOX_BATCH_SIZE: String(opts.batchSize) },
    settleMs: opts.settleS * 1000 + 2 * interval,
    warmUpTimeoutMs: 30_000 + 2 * interval,
    async start() {
      await ctx.db.raw(`truncate ${OUTBOX_TABLE}`);
      ctx.phase(`${label}: starting the relay`);
      await startRelay();
    },
    steady: { perLaunch: opts.perTx, maxInFlight: opts.concurrency, send: ctx.write },
    async stop() {
      await stopRelay();
      await ctx.db.raw(`truncate ${OUTBOX_TABLE}`);
    },
    startDrain: startRelay,
    cost: (fresh) => pollingCost(ctx.meta, opts.db, () => relay, fresh),
    close: stopRelay,
  };
}

export const polling: RelayAdapter = {
  kind: 'polling',
  backlogInOutbox: true,
  polls: true,
  setups: (opts) => opts.pollIntervals.map((interval) => (ctx: AdapterContext) => pollingSetup(ctx, interval)),
};
