// The relay's delivery confirmer alone, in a process of its own, so that the relay benchmark can measure
// what confirmation costs beside Debezium (this process's CPU from /proc, its database backend's CPU and
// statements from PostgreSQL). Started by bench/relay/confirmer.ts with: <database> <topic> <groupId>; prints
// "confirming" once its consumer runs; SIGTERM stops it.
import { Registry } from 'prom-client';
import { createLogger, runAsScript } from '@qtshop/shared/platform';
import { createDb, createKafka, loadInfra } from '@qtshop/shared/infra';
import { Confirmer } from '../../services/relay/src/confirmer';
import { RelayMetrics } from '../../services/relay/src/metrics';
import { loadRelayConfig } from '../../services/relay/src/config';
import { RELAY_POOL_APPLICATION_NAME } from '../../services/relay/src/relay';

runAsScript(import.meta.url, 'confirmer-process', async (argv) => {
  const [database, topic, groupId] = argv;
  if (!database || !topic || !groupId) {
    process.stderr.write('usage: confirmer-process <database> <topic> <groupId>\n');
    return 2;
  }
  const infra = loadInfra();
  const config = loadRelayConfig(); // the relay's own fetch settings, defaults or RELAY_CONFIRM_* from the environment
  const log = createLogger('bench-confirmer', 'warn');
  const db = createDb(infra, database, { max: 3 }, RELAY_POOL_APPLICATION_NAME);
  const confirmer = new Confirmer({
    kafka: createKafka(infra.kafka, 'bench-confirmer', log),
    groupId,
    topics: [topic],
    dbs: new Map([[database, db]]),
    fetch: { minBytes: config.RELAY_CONFIRM_MIN_BYTES, maxWaitTimeInMs: config.RELAY_CONFIRM_MAX_WAIT_MS },
    log,
    metrics: new RelayMetrics(new Registry()),
  });
  await confirmer.start();
  process.stdout.write('confirming\n');
  process.once('SIGTERM', () => {
    void confirmer
      .stop()
      .then(() => db.destroy())
      .then(() => process.exit(0));
  });
});
