// The primary's stable address on the local stack with a standby: HAProxy (Debian's package) on PG_PORT,
// running docker/haproxy/pg-primary.cfg, the file docker-compose.ha.yml runs too. Its check finds the node
// that accepts writes; every client (services, relay, tools, Kafka Connect) connects here, so a failover
// moves them all. Ready once a connection through it reaches a primary; then the primary is told to wait
// for its standby (pg-standby.ts armStandby).
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { repoRoot } from '../config';
import { spawnDetached } from '../procs';
import { spec, StackMemberError, type Component } from './common';
import { pgClient, pgMemberName } from './pg-node';
import { armStandby } from './pg-standby';

export const PG_PROXY_CONFIG = resolve(repoRoot, 'docker/haproxy/pg-primary.cfg');

export const pgProxy: Component = {
  name: 'pg-proxy',
  kind: 'pg-proxy',
  ports: (cfg) => [cfg.infra.pg.port],
  marker: () => PG_PROXY_CONFIG,
  stopSignal: 'SIGTERM',
  dependsOn: (cfg) => cfg.infra.pg.nodes.map((n) => pgMemberName(n.id)),
  async start(cfg) {
    try {
      execFileSync(cfg.pgHa.haproxy, ['-v'], { stdio: 'ignore' });
    } catch {
      throw new StackMemberError(`pg-proxy: ${cfg.pgHa.haproxy} does not run; install HAProxy (apt-get install haproxy) or set STACK_HAPROXY`);
    }
    const host = cfg.infra.pg.host === 'localhost' ? '127.0.0.1' : cfg.infra.pg.host;
    const env = {
      ...process.env,
      QTSHOP_PG_BIND: `${host}:${cfg.infra.pg.port}`,
      ...Object.fromEntries(cfg.infra.pg.nodes.map((n) => [`QTSHOP_PG_NODE_${n.id}`, `127.0.0.1:${n.port}`])),
    };
    // -db: stay in the foreground (the stack tracks its pid); -f: the configuration shared with compose.
    return spawnDetached(spec(cfg, 'pg-proxy', cfg.pgHa.haproxy, ['-db', '-f', PG_PROXY_CONFIG], { env }));
  },
  async ready(cfg) {
    const c = pgClient(cfg);
    await c.connect();
    try {
      const { rows } = await c.query<{ standby: boolean }>('select pg_is_in_recovery() as standby');
      return rows[0]?.standby === false;
    } finally {
      await c.end();
    }
  },
  afterReady: (cfg, progress) => armStandby(cfg, progress),
};
