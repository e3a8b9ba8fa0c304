// Runs a Markdown page's ```console``` blocks (docs/walkthroughs.md): each `$ command` runs in one bash session (so variables carry
// over); the lines after it are the documented output, where … stands for anything. A JSON line is
// compared as JSON (key order aside). A read-only command whose output does not match yet is repeated
// until it does (events travel asynchronously); a write is run once.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export interface Step {
  block: number;
  command: string;
  expected: string[];
}

export function parseConsoleBlocks(markdown: string): Step[] {
  const steps: Step[] = [];
  let block = 0;
  for (const m of markdown.matchAll(/```console\n([\s\S]*?)```/g)) {
    block += 1;
    for (const line of m[1]!.split('\n')) {
      if (line.startsWith('$ ')) steps.push({ block, command: line.slice(2), expected: [] });
      else if (line.trim() !== '') steps.at(-1)?.expected.push(line);
    }
  }
  return steps;
}

const wildcard = (text: string) =>
  new RegExp(
    `^${text
      .split('…')
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('[\\s\\S]*?')}$`,
  );

export function jsonMatches(expected: unknown, actual: unknown): boolean {
  if (typeof expected === 'string' && expected.includes('…')) return expected === '…' || (typeof actual === 'string' && wildcard(expected).test(actual));
  if (Array.isArray(expected)) return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => jsonMatches(e, actual[i]));
  if (expected && typeof expected === 'object') {
    if (!actual || typeof actual !== 'object' || Array.isArray(actual)) return false;
    const ek = Object.keys(expected).sort();
    const ak = Object.keys(actual).sort();
    return (
      ek.length === ak.length &&
      ek.every((k, i) => k === ak[i] && jsonMatches((expected as Record<string, unknown>)[k], (actual as Record<string, unknown>)[k]))
    );
  }
  return expected === actual;
}

function parse(line: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(line) };
  } catch {
    return { ok: false };
  }
}

export function lineMatches(expected: string, actual: string): boolean {
  const e = parse(expected);
  const a = parse(actual);
  if (e.ok && a.ok) return jsonMatches(e.value, a.value);
  return wildcard(expected.trimEnd()).test(actual.trimEnd());
}

export function outputMatches(expected: string[], actual: string[]): boolean {
  return expected.length === actual.length && expected.every((e, i) => lineMatches(e, actual[i]!));
}

export const isReadOnly = (command: string) => !/-X\s*(POST|PUT|DELETE|PATCH)|\s(-d|--data\S*)\s/.test(command);

/** A bash session fed one command at a time. */
export class Shell {
  private readonly proc: ChildProcessWithoutNullStreams;
  private buf = '';
  private waiter: (() => void) | undefined;

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    this.proc = spawn('bash', ['--noprofile', '--norc'], { cwd, env });
    this.proc.stdout.on('data', (c: Buffer) => {
      this.buf += c.toString();
      this.waiter?.();
    });
    this.proc.stderr.resume(); // npm's warnings; the documented output is stdout
  }

  async run(command: string, timeoutMs = 60_000): Promise<{ code: number; lines: string[] }> {
    const marker = `__QTSHOP_DONE_${Math.random().toString(36).slice(2)}__`;
    this.buf = '';
    this.proc.stdin.write(`${command}\necho; echo "${marker}$?"\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = new RegExp(`\\n?${marker}(\\d+)\\n`).exec(this.buf);
      if (m) {
        const out = this.buf.slice(0, m.index).replace(/\n$/, '');
        return { code: Number(m[1]), lines: out.split('\n').filter((l) => l.trim() !== '') };
      }
      if (Date.now() > deadline) throw new Error(`command did not finish in ${timeoutMs} ms: ${command}`);
      await new Promise<void>((r) => {
        this.waiter = r;
        setTimeout(r, 200);
      });
    }
  }

  close(): void {
    this.proc.stdin.end();
    this.proc.kill();
  }
}
