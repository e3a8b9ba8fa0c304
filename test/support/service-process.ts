// A service in a process of its own, started as npm start starts it (node --import tsx main.ts), for what
// only a process shows: its signal handling and its exit code. Resolved once it listens, its port read from
// its log (the service is given port 0).
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addressEnv, loadInfra, withoutIdentity } from '@qtshop/shared/infra';
import { portSettingOf, type ShopService } from '@qtshop/shared/tooling';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  /** Its exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /** Everything it wrote so far (stdout and stderr), for a failure's message. */
  output(): string;
}

export function startServiceProcess(service: ShopService, env: Record<string, string> = {}): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(root, 'services', service, 'src/main.ts')], {
    cwd: root,
    env: { ...withoutIdentity(process.env), ...addressEnv(loadInfra()), LOG_LEVEL: 'info', [portSettingOf(service)]: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  let out = '';
  return new Promise((ok, fail) => {
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const listening = out
        .split('\n')
        .slice(0, -1) // complete lines only
        .flatMap((l) => (l.startsWith('{') ? [JSON.parse(l) as { msg?: string; port?: number }] : []))
        .find((l) => l.msg === `${service} listening` || (l.msg === 'relay started' && service === 'relay'));
      if (listening) ok({ child, url: `http://127.0.0.1:${listening.port}`, exited, output: () => out });
    });
    void exited.then((code) => fail(new Error(`${service} exited (${code}) before listening:\n${out}`)));
  });
}
