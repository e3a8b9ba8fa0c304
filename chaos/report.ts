// The chaos report: every figure and setting as JSON, and a markdown table per run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { machineInfo, type MachineInfo } from '../bench/lib/machine';
import type { RunOptions, ScenarioResult } from './run';

export interface ChaosReport {
  startedAt: string;
  seconds: number;
  command: string;
  repairAfterMs: number;
  options: RunOptions;
  machine: MachineInfo;
  results: ScenarioResult[];
}

const secs = (ms?: number) => (ms === undefined ? '–' : (ms / 1000).toFixed(1));

export function renderMarkdown(r: ChaosReport): string {
  const m = r.machine;
  // The recovery column only when a scenario measured one (the cluster scenarios do).
  const recovery = r.results.some((x) => x.recoveredMs !== undefined);
  const rows = r.results.map((x) =>
    x.status === 'pending'
      ? `| ${x.scenario} | pending: ${x.pending} | | | | | | | | | | |${recovery ? ' |' : ''}`
      : `| ${x.scenario} (${x.mode ?? 'debezium'}) | ${x.status}${x.error ? ` (${x.error})` : ''} | ${x.events} | ${x.lost} | ${x.notApplied} | ${x.duplicatesDelivered} | ${x.appliedTwice} | ${x.orderViolations} | ${x.versionsBackwards ?? 0} | ${x.diverged} | ${secs(x.faultMs)} |${recovery ? ` ${secs(x.recoveredMs)} |` : ''} ${secs(x.settledMs)} |`,
  );
  const details = r.results
    .filter((x) => x.status !== 'pending')
    .map((x) =>
      [
        `### ${x.scenario}`,
        '',
        x.what,
        '',
        ...x.notes.map((n) => `- ${n}`),
        `- requests: ${x.load.requests} (${x.load.ok} ok, ${x.load.refused} refused with 409, ${x.load.deferred ?? 0} deferred with 503 and Retry-After, ${x.load.failed} failed); fault injected and healed in ${secs(x.faultMs)} s; quarantined rows: ${x.quarantined}`,
        ...(x.violations.length ? ['', 'Violations left after the settle time:', '', ...x.violations.map((v) => `- ${v.category}: ${v.message}`)] : []),
        '',
      ].join('\n'),
    );
  return [
    `# Chaos run`,
    '',
    `Run ${r.startedAt} (${r.seconds} s) on ${m.cores} cores, ${m.memoryGiB} GiB (${m.cpuModel}), ${m.os}, Node ${m.node}${m.commit ? `, commit ${m.commit}` : ''}. The shop runs in the scenario's relay mode (polling-mode scenarios add a standby relay); repair after ${r.repairAfterMs} ms.`,
    '',
    '```',
    r.command,
    '```',
    '',
    `Load per scenario: ${r.options.clients} order clients, one price client (a change about every 0.3 s), one restock client (about every 0.2 s), for ${secs(r.options.durationMs)} s; ${r.options.products} products ordered (stock ${r.options.stock} each), ${r.options.restocked} restocked, ${r.options.keptBaskets} baskets kept; orders of 1 to ${r.options.lines} lines unless a scenario says otherwise. A basket whose order is refused (409) is deleted. About 15% of placed orders are cancelled by their shopper (half at once, half within a second), 20% of baskets are filled again right after their order with one more line (kept, and checked), and the restock client also adjusts the ordered products' stock (+1 to +20, with an Idempotency-Key). The fault comes a quarter of the way in.`,
    '',
    `| scenario | result | events | lost | not applied | duplicates delivered | applied twice | order violations | versions backwards | diverged | fault s |${recovery ? ' recovered in s |' : ''} settled in s |`,
    `|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|${recovery ? '---:|' : ''}---:|`,
    ...rows,
    '',
    `events: distinct event ids on the shop topics for the run. lost: outbox rows not on Kafka (a poison row not quarantined counts), orders answered 201 that order-command does not hold, and lines added to a basket right after its order that are no longer in it. not applied: events a consumer handles with no record in its inbox. duplicates delivered: records beyond the first per event id (repair and Debezium both published; harmless, consumers drop them). applied twice: an inbox holding an id twice, one version of an aggregate applied under two event ids, an order whose stock was decided twice, that has two stock outcomes or was cancelled twice, stock not conserved (initial + adjustments − confirmed), or an order's stock not given back exactly once (cancelled, or rejected after a reservation, without its stock decision at version 2; confirmed without its reservation kept). order violations: a consumer applied an older version of an aggregate after a newer one. versions backwards: a copy holds a version its owner does not have, or an event on Kafka is missing from its outbox (the owner's database lost commits whose events had left). diverged: a copy of a product (price, version, quantity) differs from its owner, or an order is unsettled or settled differently in order-query (its last outcome: Confirmed, Rejected or Cancelled). fault: from injecting the fault to its healing (the process back and ready, the connector running, the poison row quarantined).${recovery ? ' recovered in: from the fault to the pipeline carrying on without the lost member (every order placed in the 5 s after the fault settled in order-query; the scenario notes add what moved and when).' : ''} settled in: from the end of the load (some time after the fault healed) to every invariant holding.`,
    '',
    ...details,
  ].join('\n');
}

export function writeReport(dir: string, name: string, r: ChaosReport): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const json = resolve(dir, `${name}.json`);
  const md = resolve(dir, `${name}.md`);
  writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(md, `${renderMarkdown(r)}\n`);
  return { json, md };
}

export { machineInfo };
