// `npm run status` for a person: the pipeline status as tables, problems coloured on a terminal (red for
// what is broken, yellow for what to look at) and listed at the end; plain text when piped.
import { describePgNodes } from './pg-nodes';
import { formatAge, formatBytes, type Level, type PipelineStatus } from './pipeline-status';
import { formatTable } from './text-table';

const COLOURS: Record<Level, string> = { ok: '\x1b[32m', warn: '\x1b[33m', bad: '\x1b[31m' };
const RESET = '\x1b[0m';
const BOLD = '\x1b[1m';

/** A table whose cells each carry a level; the header row and ok cells are not coloured. */
function table(header: string[], rows: Array<Array<[string, Level?]>>, colour: boolean): string {
  const levels = [header.map(() => undefined), ...rows.map((r) => r.map(([, l]) => l))];
  const lines = formatTable([header, ...rows.map((r) => r.map(([v]) => v))], (cell, ri, ci) => {
    if (!colour) return cell;
    if (ri === 0) return `${BOLD}${cell}${RESET}`;
    const l = levels[ri]?.[ci];
    return l && l !== 'ok' ? `${COLOURS[l]}${cell}${RESET}` : cell;
  });
  return lines.map((l) => l.trimEnd()).join('\n');
}

const mark = (l: Level) => (l === 'ok' ? 'ok' : l === 'warn' ? 'WARN' : 'FAIL');

export function renderStatus(s: PipelineStatus, colour: boolean): string {
  const paint = (l: Level, text: string) => (colour && l !== 'ok' ? `${COLOURS[l]}${text}${RESET}` : text);
  const out: string[] = [];
  out.push(
    `QT-Shop pipeline at ${s.at}   relay mode: ${s.relayMode.mode} (${s.relayMode.from === 'relay' ? 'the relay says' : 'RELAY_MODE; the relay did not answer'})`,
  );

  out.push(
    '',
    table(
      ['outbox', 'connector', 'state', 'slot', 'active', 'WAL', 'undelivered', 'oldest', 'quarantined', ''],
      s.outboxes.map((o) => {
        if ('error' in o) return [[o.database, 'bad'], ['-'], ['unknown', 'bad'], ['-'], ['-'], ['-'], ['-'], ['-'], ['-'], [mark(o.level), o.level]];
        const cState = o.connector?.state;
        const cLevel: Level | undefined = !cState || cState === 'RUNNING' ? undefined : o.problems.some((p) => p.includes(cState)) ? o.level : undefined;
        return [
          [o.database, o.level],
          [o.connector?.name ?? '-'],
          [cState ?? '-', cLevel],
          [o.slot ? (o.slot.exists ? o.slot.name : `${o.slot.name} (none)`) : '-'],
          [o.slot?.exists ? (o.slot.active ? 'yes' : 'no') : '-'],
          [o.slot?.exists ? formatBytes(o.slot.retainedBytes) : '-', o.problems.some((p) => p.includes('WAL')) ? 'warn' : undefined],
          [String(o.unconfirmed)],
          [o.unconfirmed > 0 ? formatAge(o.oldestUnconfirmedS) : '-', o.problems.some((p) => p.includes('oldest')) ? o.level : undefined],
          [String(o.quarantined), o.quarantined > 0 ? 'warn' : undefined],
          [mark(o.level), o.level],
        ];
      }),
      colour,
    ),
  );

  out.push(
    '',
    s.kafkaError
      ? paint('bad', `Kafka: unreachable (${s.kafkaError})`)
      : table(
          ['consumer group', 'state', 'members', 'topic', 'lag', 'lag per partition', ''],
          s.consumerGroups.flatMap((g) => {
            const topics = [...new Set(g.partitions.map((p) => p.topic))];
            const head: Array<[string, Level?]> = [
              [g.group, g.level],
              [g.state, g.members === 0 ? g.level : undefined],
              [String(g.members), g.members === 0 ? g.level : undefined],
            ];
            if (topics.length === 0) return [[...head, ['-'], ['0'], ['-'], [mark(g.level), g.level]]];
            return topics.map((t, i) => {
              const ps = g.partitions.filter((p) => p.topic === t);
              const lag = ps.reduce((n, p) => n + p.lag, 0);
              return [
                ...(i === 0 ? head : head.map((): [string] => [''])),
                [t],
                [String(lag), lag > 0 ? g.level : undefined],
                [ps.map((p) => `${p.partition}:${p.lag}`).join(' ')],
                i === 0 ? [mark(g.level), g.level] : [''],
              ] as Array<[string, Level?]>;
            });
          }),
          colour,
        ),
  );

  if (!s.kafkaError)
    out.push(
      '',
      table(
        ['dead-letter topic', 'messages', 'not redriven', ''],
        s.deadLetters.map((d) => [
          [d.dlqTopic, d.level],
          [d.exists ? String(d.messages) : '- (none yet)'],
          [String(d.pending), d.level],
          [mark(d.level), d.level],
        ]),
        colour,
      ),
    );

  const o = s.orders;
  const orders =
    'error' in o ? `orders (${o.database}): unknown` : `orders: ${o.pending} pending${o.pending > 0 ? `, oldest ${formatAge(o.oldestPendingS)}` : ''}`;
  out.push('', paint(o.level, `${orders}   ${mark(o.level)}`));

  out.push(
    '',
    table(
      ['service', 'url', '/ready', ''],
      s.services.map((v) => [[v.service, v.level], [v.url], [v.status === null ? 'down' : String(v.status), v.level], [mark(v.level), v.level]]),
      colour,
    ),
  );

  if (s.pgNodes) {
    const level = (n: string): Level | undefined => (n === 'down' ? 'bad' : undefined);
    out.push(
      '',
      table(
        ['postgres', 'port', 'role', 'replication', 'logical slots'],
        describePgNodes(s.pgNodes.nodes).map((r) => r.map((cell, i): [string, Level?] => [cell, i === 2 ? level(cell) : undefined])),
        colour,
      ),
    );
  }
  out.push('');
  if (s.problems.length === 0) out.push(colour ? `${COLOURS.ok}no problems${RESET}` : 'no problems');
  else {
    out.push(`${s.problems.length} problem(s):`);
    for (const p of s.problems) out.push(paint(p.level, `  ${mark(p.level)} ${p.where}: ${p.message}`));
  }
  return `${out.join('\n')}\n`;
}
