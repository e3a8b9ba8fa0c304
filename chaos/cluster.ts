// npm run test:cluster [-- chaos options]: the failure tests of the clustered stack. Runs `npm run chaos --
// --cluster` (chaos/cluster-scenarios.ts) on a stack of three brokers and two Kafka Connect workers with two
// instances of every service, kept in a stack directory of its own (.stack-cluster: its own PostgreSQL,
// Kafka and MongoDB data, so the default stack's data never meets a second Kafka cluster), and stops that
// stack afterwards. Every setting can be overridden in the environment; the default stack must be down
// (the cluster uses the same ports).
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { runAsScript } from '@qtshop/shared/platform';
import { repoRoot } from '../stack/config';

/** The cluster's shape, where the environment does not say otherwise. */
export const CLUSTER_DEFAULTS = {
  STACK_BROKERS: '3',
  STACK_CONNECT_WORKERS: '2',
  SHOP_REPLICAS: '2',
  STACK_DIR: resolve(repoRoot, '.stack-cluster'),
} as const;

function run(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(repoRoot, script), ...args], { cwd: repoRoot, env, stdio: 'inherit' });
    child.on('close', (code) => done(code ?? 1));
  });
}

async function main(argv: string[]): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(CLUSTER_DEFAULTS)) if (!env[k]) env[k] = v;
  const keep = argv.includes('--keep-stack');
  process.stdout.write(
    `[cluster] ${env.STACK_BROKERS} brokers, ${env.STACK_CONNECT_WORKERS} Connect workers, ${env.SHOP_REPLICAS} instances per service; stack in ${env.STACK_DIR}\n`,
  );
  let code = 1;
  try {
    code = await run('chaos/cli.ts', ['--cluster', ...argv.filter((a) => a !== '--keep-stack')], env);
  } finally {
    if (!keep) await run('stack/cli.ts', ['down'], env);
  }
  return code;
}

runAsScript(import.meta.url, 'test:cluster', main);
