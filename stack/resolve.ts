// Resolves the JVM half of the stack (Kafka, Connect, Debezium plugin, mongo-java-server) with Maven
// into STACK_DIR, skipped when the jars for the current poms are already there.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { repoRoot, type StackConfig } from './config';

const POMS = ['stack/maven/pom.xml', 'stack/maven/kafka/pom.xml', 'stack/maven/debezium/pom.xml', 'stack/maven/mongo/pom.xml'];

export class ResolveError extends Error {}

function pomHash(): string {
  const h = createHash('sha256');
  for (const p of POMS) h.update(readFileSync(resolve(repoRoot, p)));
  return h.digest('hex');
}

export function isResolved(cfg: StackConfig): boolean {
  if (!existsSync(cfg.paths.resolvedMarker)) return false;
  try {
    const marker = JSON.parse(readFileSync(cfg.paths.resolvedMarker, 'utf8')) as { pomHash?: string };
    if (marker.pomHash !== pomHash()) return false;
  } catch {
    return false;
  }
  const nonEmpty = (d: string) => existsSync(d) && readdirSync(d).length > 0;
  return nonEmpty(cfg.paths.kafkaLib) && nonEmpty(cfg.paths.mongoLib) && nonEmpty(resolve(cfg.paths.plugins, 'debezium-connector-postgres'));
}

/** Runs Maven; `progress` receives one line per module and per downloaded artifact group. */
export async function resolveArtifacts(cfg: StackConfig, progress: (line: string) => void): Promise<void> {
  const args = ['-B', '-f', resolve(repoRoot, 'stack/maven/pom.xml'), 'package', `-Dstack.dir=${cfg.dir}`];
  const out: string[] = [];
  let downloads = 0;
  const code = await new Promise<number>((done, fail) => {
    const child = spawn(cfg.mvn, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    child.once('error', (err) => fail(new ResolveError(`cannot run Maven (${cfg.mvn}): ${err.message}; install Maven or set STACK_MVN`)));
    let buf = '';
    const onData = (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        out.push(line);
        const building = /\[INFO\] Building (\S+) /.exec(line);
        if (building) progress(`maven: resolving ${building[1]}`);
        if (/^\[INFO\] Downloaded from/.test(line)) {
          downloads += 1;
          if (downloads % 25 === 0) progress(`maven: ${downloads} artifacts downloaded`);
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('close', (c) => done(c ?? 1));
  });
  if (code !== 0) throw new ResolveError(mavenFailureSummary(out));
  progress(`maven: done (${downloads} artifacts downloaded)`);
  writeFileSync(cfg.paths.resolvedMarker, JSON.stringify({ pomHash: pomHash(), at: new Date().toISOString() }, null, 2));
}

/** Turns Maven's output into one clear message naming the artifact that failed, when Maven names one. */
export function mavenFailureSummary(lines: string[]): string {
  const artifactPatterns = [
    /Could not find artifact (\S+)/,
    /Failure to find (\S+)/,
    /Could not transfer artifact (\S+)/,
    /Could not resolve artifact (\S+)/,
    /Non-resolvable[^:]*: (\S+)/,
  ];
  let artifact: string | undefined;
  for (const line of lines) {
    for (const re of artifactPatterns) {
      const m = re.exec(line);
      if (m) {
        artifact = m[1];
        break;
      }
    }
    if (artifact) break;
  }
  const errors = lines.filter(
    (l) => l.startsWith('[ERROR]') && l.replace('[ERROR]', '').trim() && !/re-run Maven|For more information|\[Help \d\] http/.test(l),
  );
  const detail = (errors.length ? errors : lines.slice(-20)).slice(0, 10).join('\n');
  return `Maven could not resolve the stack${artifact ? `: artifact ${artifact} failed` : ''}\n${detail}`;
}
