// Child process for the crash test: consumes with the real runner and SIGKILLs itself right after the
// first event's transaction commits, before its offset can be committed.
import { createLogger, runAsScript } from '@qtshop/shared/platform';
import { createKafka, createDb, loadInfra } from '@qtshop/shared/infra';
import { effectsRunner } from './runner-fixture';

runAsScript(import.meta.url, 'crash-consumer', async (argv) => {
  const [database, topic, groupId] = argv as [string, string, string];
  const infra = loadInfra();
  const db = createDb(infra, database);
  const runner = effectsRunner(createKafka(infra.kafka, 'crash-consumer'), db, createLogger('crash-consumer', 'warn'), {
    groupId,
    topic,
    sessionTimeoutMs: 6000, // the broker's minimum: the group notices the dead member sooner
    onApplied: () => {
      process.stdout.write('applied; killing myself before the offset commit\n');
      process.kill(process.pid, 'SIGKILL');
    },
  });
  await runner.start();
});
