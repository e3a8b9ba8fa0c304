// A service started as in production (NODE_ENV=production) with the development admin token, or (serving
// shoppers) the development JWT secret, refuses to start, says why, and exits non-zero before it touches
// anything.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

function run(service: string, extraEnv: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const { ADMIN_TOKEN: _unset, AUTH_JWT_SECRET: _secret, AUTH_JWKS_URL: _jwks, ...env } = process.env;
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(root, 'services', service, 'src/main.ts')], {
      cwd: root,
      env: { ...env, ...extraEnv, CATALOG_PORT: '0', INVENTORY_PORT: '0', BASKET_PORT: '0', ORDER_COMMAND_PORT: '0', ORDER_QUERY_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => done({ code, out }));
  });
}

describe('NODE_ENV=production', () => {
  it.each(['catalog', 'inventory', 'basket', 'order-command', 'order-query'])(
    '%s refuses to start with the development admin token, naming ADMIN_TOKEN',
    async (service) => {
      const { code, out } = await run(service, { NODE_ENV: 'production' });
      expect(code).toBe(1);
      expect(out).toMatch(/ADMIN_TOKEN: is the development default/);
      expect(out).not.toMatch(/listening/);
    },
    30_000,
  );

  it.each(['basket', 'order-command', 'order-query'])(
    '%s refuses the development JWT secret, naming AUTH_JWT_SECRET',
    async (service) => {
      const refused = await run(service, { NODE_ENV: 'production', ADMIN_TOKEN: 'an-operator-secret' });
      expect(refused.code).toBe(1);
      expect(refused.out).toMatch(/AUTH_JWT_SECRET: is the development default/);
      expect(refused.out).not.toMatch(/listening/);
    },
    30_000,
  );
});
