// npm run dlq -- list <topic> | redrive <topic>
// list: every message dead-lettered from <topic> (in <topic>.dlq) with why; redrive: republish them to <topic>.
import { createLogger, runAsScript } from '@qtshop/shared/platform';
import { createKafka, loadInfra } from '@qtshop/shared/infra';
import { listDeadLetters, redriveDeadLetters } from '@qtshop/shared/tooling';

const USAGE = `usage: npm run dlq -- <list|redrive> <topic>     e.g. npm run dlq -- list qtshop.product\n`;
const log = createLogger('dlq');

async function main([cmd, topic]: string[]): Promise<number> {
  if (!topic || (cmd !== 'list' && cmd !== 'redrive')) {
    process.stderr.write(USAGE);
    return 2;
  }
  const kafka = createKafka(loadInfra().kafka, 'qtshop-dlq-tool');
  if (cmd === 'list') {
    const items = await listDeadLetters(kafka, topic);
    for (const d of items) {
      process.stdout.write(
        `${JSON.stringify({ dlqOffset: `${d.partition}:${d.offset}`, id: d.id, eventType: d.eventType, key: d.key, reason: d.reason, error: d.error, original: d.original, failedAt: d.failedAt })}\n`,
      );
    }
    process.stderr.write(`${items.length} dead-lettered message(s) from ${topic}\n`);
  } else {
    const n = await redriveDeadLetters(kafka, topic);
    process.stderr.write(`republished ${n} message(s) from ${topic}.dlq to ${topic}\n`);
  }
  return 0;
}

runAsScript(import.meta.url, 'dlq', main, { report: (err) => log.error({ err }, 'dlq command failed') });
