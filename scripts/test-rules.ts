// npm run test:rules: checks the Prometheus alert rules (monitoring/prometheus/alerts.yml) and runs their
// unit tests (monitoring/prometheus/tests/*.test.yml) with promtool, which Debian's `prometheus` package
// ships (.ci/run installs it). Every alert must have its own test file. It also checks the configuration
// docker-compose's Prometheus runs (monitoring/prometheus/prometheus.yml), which loads the rules.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { runAsScript } from '@qtshop/shared/platform';
import { repoRoot } from '../stack/config';

export const RULES_DIR = resolve(repoRoot, 'monitoring/prometheus');
export const RULES_FILE = resolve(RULES_DIR, 'alerts.yml');
export const RULE_TESTS_DIR = resolve(RULES_DIR, 'tests');

/** The alert names of the rules file, in order. */
export const alertNames = (yaml = readFileSync(RULES_FILE, 'utf8')): string[] => [...yaml.matchAll(/^\s*- alert:\s*(\S+)/gm)].map((m) => m[1]!);

function promtool(args: string[]): number {
  const r = spawnSync('promtool', args, { cwd: RULES_DIR, stdio: 'inherit' });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    process.stderr.write(
      missing
        ? "test:rules: promtool not found on PATH. Install Debian's prometheus package (apt-get install -y prometheus; only /usr/bin/promtool is needed), as .ci/run does.\n"
        : `test:rules: promtool failed to start: ${r.error.message}\n`,
    );
    return 1;
  }
  return r.status ?? 1;
}

runAsScript(import.meta.url, 'test:rules', async () => {
  const tests = readdirSync(RULE_TESTS_DIR)
    .filter((f) => f.endsWith('.test.yml'))
    .sort();
  const untested = alertNames().filter((a) => !tests.includes(`${a}.test.yml`));
  if (untested.length > 0) {
    process.stderr.write(`test:rules: no unit test for ${untested.join(', ')} (expected ${untested.map((a) => `tests/${a}.test.yml`).join(', ')})\n`);
    return 1;
  }
  const checked = promtool(['check', 'rules', 'alerts.yml']);
  if (checked !== 0) return checked;
  const configured = promtool(['check', 'config', 'prometheus.yml']);
  if (configured !== 0) return configured;
  return promtool(['test', 'rules', ...tests.map((f) => `tests/${f}`)]);
});
