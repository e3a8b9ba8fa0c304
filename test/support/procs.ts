// Which of the pids in a directory's *.pid files are alive: tests check that nothing was left running.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { isAlive } from '../../stack/procs';

export function alivePids(runDir: string, prefix = ''): number[] {
  if (!existsSync(runDir)) return [];
  return readdirSync(runDir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.pid'))
    .map((f) => Number.parseInt(readFileSync(resolve(runDir, f), 'utf8'), 10))
    .filter((pid) => Number.isInteger(pid) && isAlive(pid));
}
