// npm run -s events -- <topic> [--key <aggregate id>] [--type <eventType>]
// Prints the records on a topic (from its start to now) as JSON lines: what a consumer receives.
import { runAsScript } from '@qtshop/shared/platform';
import { createKafka, headerString, loadInfra } from '@qtshop/shared/infra';
import { readToEnd } from '@qtshop/shared/tooling';
import { randomUUID } from 'node:crypto';

const USAGE = 'usage: npm run -s events -- <topic> [--key <aggregate id>] [--type <eventType>]\n';

async function main(args: string[]): Promise<number> {
  const topic = args[0];
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i > 0 ? args[i + 1] : undefined;
  };
  if (!topic || topic.startsWith('-')) {
    process.stderr.write(USAGE);
    return 2;
  }
  const key = opt('--key');
  const type = opt('--type');
  const kafka = createKafka(loadInfra().kafka, 'qtshop-events-tool');
  const lines: Array<{ offset: bigint; partition: number; line: string }> = [];
  await readToEnd(kafka, topic, `qtshop-events-tool-${randomUUID()}`, 'start', async (partition, m) => {
    const k = m.key?.toString('utf8') ?? null;
    const eventType = headerString(m.headers, 'eventType');
    if ((key && k !== key) || (type && eventType !== type)) return;
    const headers = Object.fromEntries(Object.keys(m.headers ?? {}).map((h) => [h, headerString(m.headers, h) ?? null]));
    let value: unknown = m.value?.toString('utf8') ?? null;
    try {
      value = JSON.parse(value as string);
    } catch {
      /* shown as the raw string */
    }
    lines.push({ offset: BigInt(m.offset), partition, line: JSON.stringify({ topic, key: k, headers, value }) });
  });
  // One aggregate's records share a partition: offset order is their order.
  lines.sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : 1));
  for (const l of lines) process.stdout.write(`${l.line}\n`);
  return 0;
}

runAsScript(import.meta.url, 'events', main, { report: (err) => process.stderr.write(`events: ${err instanceof Error ? err.message : String(err)}\n`) });
