// npm run connect -- <register|status|restart|pause|resume|delete|list> [name...]
// Drives Kafka Connect REST with the connector files in connect-config/ (default: all of them).
import { basename } from 'node:path';
import { createLogger, runAsScript } from '@qtshop/shared/platform';
import { createDb, loadInfra } from '@qtshop/shared/infra';
import { ConnectClient, connectorFiles, readConnectorFile, registerConnector, removeConnector } from '@qtshop/shared/delivery';

const USAGE = `usage: npm run connect -- <command> [connector...]

  register   create or update each connector (PUT /connectors/<name>/config) and wait until it streams
  status     connector and task states
  restart    restart the connector and its tasks
  pause      pause streaming (the replication slot keeps WAL until resumed)
  resume     resume streaming
  delete     delete the connector and drop its replication slot
  list       connectors registered in Kafka Connect

connectors: ${connectorFiles()
  .map((f) => basename(f, '.json'))
  .join(', ')} (default: all)
`;

const log = createLogger('connect-cli');

async function main(argv: string[]): Promise<number> {
  const [cmd, ...names] = argv;
  const infra = loadInfra();
  const connect = ConnectClient.of(infra.connect);
  const files = connectorFiles().map(readConnectorFile);
  const unknown = names.filter((n) => !files.some((f) => f.name === n));
  if (unknown.length) {
    process.stderr.write(`unknown connector: ${unknown.join(', ')}\n${USAGE}`);
    return 2;
  }
  const selected = names.length ? files.filter((f) => names.includes(f.name)) : files;
  const print = (v: unknown) => process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
  switch (cmd) {
    case 'list':
      print(await connect.list());
      return 0;
    case 'status':
      for (const c of selected) print(await connect.status(c.name).catch((err: Error) => ({ name: c.name, error: err.message })));
      return 0;
    case 'restart':
    case 'pause':
    case 'resume':
      for (const c of selected) {
        await connect[cmd](c.name);
        log.info({ connector: c.name }, `${cmd} requested`);
      }
      return 0;
    case 'register':
    case 'delete': {
      const admin = createDb(infra, 'postgres', { max: 1 });
      try {
        for (const c of selected) {
          if (cmd === 'register') {
            log.info({ connector: c.name }, 'registering');
            await registerConnector(connect, admin, c);
            log.info({ connector: c.name, slot: c['slot.name'] }, 'running, replication slot active');
          } else {
            await removeConnector(connect, admin, c);
            log.info({ connector: c.name, slot: c['slot.name'] }, 'deleted, replication slot dropped');
          }
        }
      } finally {
        await admin.destroy();
      }
      return 0;
    }
    default:
      process.stderr.write(`${cmd ? `unknown command: ${cmd}\n` : ''}${USAGE}`);
      return 2;
  }
}

runAsScript(import.meta.url, 'connect', main, { report: (err) => log.error({ err }, 'connect command failed') });
