// Debezium: the connector of connect-config/catalog-outbox.json on the bench database, in the variants of
// DEBEZIUM_VARIANTS, with the relay's delivery confirmer beside it. A drain stops the connector (its
// replication connection closed) while the backlog is written, then resumes it.
import { waitUntil } from '@qtshop/shared/platform';
import type { Knex } from '@qtshop/shared/infra';
import { OUTBOX_TABLE } from '@qtshop/shared/outbox';
import { registerConnector, removeConnector, slotActive, type ConnectorConfig } from '@qtshop/shared/delivery';
import { outboxPublicationOf, readConnector } from '@qtshop/shared/tooling';
import { fmt } from '../lib/stats';
import type { AdapterContext, RelayAdapter, RelaySetup } from './adapter';
import { confirmCost, startConfirmer, type Confirmer } from './confirmer';
import { backendOnly, closeWindow, openWindow } from './cost';
import { DEBEZIUM_VARIANTS } from './options';
import type { RelayBenchResults } from './results';

export function benchConnector(db: string, variant: string): ConnectorConfig {
  const base = readConnector('catalog-outbox');
  const cfg: Record<string, string> = {
    ...base,
    name: `${db}-outbox`,
    'database.dbname': db,
    'slot.name': `${db}_outbox`,
    'publication.name': outboxPublicationOf(db),
    'topic.prefix': db.replace(/_/g, '-'),
  };
  for (const [k, v] of Object.entries(DEBEZIUM_VARIANTS[variant]?.settings ?? {})) {
    if (v === null) delete cfg[k];
    else cfg[k] = v;
  }
  return cfg as ConnectorConfig;
}

/** The settings that decide latency and throughput, as the variant runs them (absent = the default). */
function latencySettings(cfg: Record<string, string>): Record<string, string> {
  const keys = ['poll.interval.ms', 'max.batch.size', 'max.queue.size', 'heartbeat.interval.ms'];
  const defaults: Record<string, string> = {
    'poll.interval.ms': '500 (default)',
    'max.batch.size': '2048 (default)',
    'max.queue.size': '8192 (default)',
  };
  // The producer's are the worker's for every connector (override policy None).
  return { ...Object.fromEntries(keys.map((k) => [k, cfg[k] ?? defaults[k] ?? '(unset)'])), 'producer linger.ms': '0 (worker)' };
}

async function walsenderPid(meta: Knex, slot: string): Promise<number | undefined> {
  const row = await meta('pg_replication_slots').where({ slot_name: slot }).first<{ active_pid: number | null } | undefined>('active_pid');
  return row?.active_pid ?? undefined;
}

function debeziumSetup(ctx: AdapterContext, variant: string): RelaySetup {
  const { opts, connect, admin } = ctx;
  const cfg = benchConnector(opts.db, variant);
  const label = `debezium (${variant})`;
  let registered = false;
  let confirmer: Confirmer | undefined;
  const findPid = () => walsenderPid(ctx.meta, cfg['slot.name']!);
  return {
    variant,
    label,
    settings: latencySettings(cfg),
    settleMs: opts.settleS * 1000,
    warmUpTimeoutMs: 60_000,
    async start() {
      ctx.phase(`${label}: registering the connector`);
      await ctx.db.raw(`truncate ${OUTBOX_TABLE}`);
      await registerConnector(connect, admin, cfg, 90_000);
      registered = true;
      ctx.phase(`${label}: starting the confirmer`);
      confirmer = await startConfirmer(opts.db, ctx.topic);
    },
    steady: { perLaunch: opts.perTx, maxInFlight: opts.concurrency, send: ctx.write },
    // Stopped, not paused: a paused task keeps decoding into its queue (up to max.queue.size
    // records), which would flatter the drain. A stopped connector has closed its replication
    // connection, so the whole backlog is read from the slot after the resume, as after an outage.
    async stop() {
      ctx.phase(`${label}: stopping the connector`);
      await connect.stop(cfg.name);
      await waitUntil(
        async () => {
          const s = await connect.status(cfg.name);
          return s.connector.state === 'STOPPED' && s.tasks.length === 0 && !(await slotActive(admin, cfg['slot.name']!));
        },
        { timeoutMs: 60_000, what: `connector ${cfg.name} to stop and release its slot` },
      );
    },
    startDrain: () => connect.resume(cfg.name).then(() => undefined),
    async cost(fresh) {
      const window = await openWindow(ctx.meta, findPid, fresh);
      const closeConfirm = await confirmCost(ctx.meta, opts.db, confirmer?.pid);
      return async (events) => {
        const c = await closeWindow(window, findPid, events);
        const confirm = await closeConfirm(c.end);
        return { ...backendOnly(c), ...(confirm ? { confirm } : {}) };
      };
    },
    async close() {
      ctx.phase(`${label}: removing the connector`);
      const c = confirmer;
      confirmer = undefined;
      await c?.stop();
      if (registered) await removeConnector(connect, admin, cfg);
      registered = false;
    },
  };
}

export const debezium: RelayAdapter = {
  kind: 'debezium',
  backlogInOutbox: true,
  polls: false,
  setups: (opts) => opts.debeziumVariants.map((variant) => (ctx: AdapterContext) => debeziumSetup(ctx, variant)),
  // Leftovers of an interrupted earlier run on this database: its connector and slot.
  cleanLeftovers: ({ connect, admin, db }) => removeConnector(connect, admin, benchConnector(db, 'file')),
  reportLines: variantLines,
};

/** The report's section on the variants: what each sets, and its effect per steady rate and on the drain. */
function variantLines(r: RelayBenchResults): string[] {
  const lines: string[] = [];
  const variants = Object.entries(r.debeziumVariants);
  if (!variants.length) return lines;
  lines.push('## Debezium connector variants', '', '| variant | what | settings that differ from connect-config/catalog-outbox.json |', '|---|---|---|');
  for (const [name, v] of variants) {
    const s = Object.entries(v.settings).map(([k, val]) => `\`${k}\`=${val === null ? '(removed: default)' : `\`${val}\``}`);
    lines.push(`| ${name} | ${v.doc} | ${s.join(', ') || '(none)'} |`);
  }
  lines.push('');
  const byVariant = r.runs.filter((x) => x.relay === 'debezium');
  if (!byVariant.length) return lines;
  const rates = r.options.rates;
  lines.push(
    'Effect (p50 / p99 ms per steady rate; drain ev/s):',
    '',
    `| variant | ${rates.map((x) => `${x}/s p50 / p99`).join(' | ')} | drain ev/s |`,
    `|---|${rates.map(() => '---:').join('|')}|---:|`,
  );
  for (const [name] of variants) {
    const cells = rates.map((rate) => {
      const x = byVariant.find((y) => y.variant === name && y.rate === rate);
      return x ? `${fmt(x.latencyMs.p50)} / ${fmt(x.latencyMs.p99)}` : '–';
    });
    const d = byVariant.find((y) => y.variant === name && y.mode === 'drain');
    lines.push(`| ${name} | ${cells.join(' | ')} | ${d ? fmt(d.throughput) : '–'} |`);
  }
  lines.push('');
  return lines;
}
