// A service started as in production (NODE_ENV=production) with the development admin token, or one too
// short, or (serving shoppers) the development JWT secret, one too short, or a JWKS URL that is not https,
// or (with a PostgreSQL database, the relay too) its role's development password, refuses to start, says
// why, and exits non-zero before it touches anything.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
/** An admin token production accepts (32 characters or more), so that the next setting is the one refused. */
const ADMIN_TOKEN = 'an-operator-secret-of-32-characters';
/** A PostgreSQL password production accepts (none of a role's development password), for the same reason. */
const PG_PASSWORD = 'an-operator-pg-secret';

function run(service: string, extraEnv: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const { ADMIN_TOKEN: _unset, AUTH_JWT_SECRET: _secret, AUTH_JWKS_URL: _jwks, PG_USER: _user, PG_PASSWORD: _password, ...env } = process.env;
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(root, 'services', service, 'src/main.ts')], {
      cwd: root,
      env: { ...env, PG_PASSWORD, ...extraEnv, CATALOG_PORT: '0', INVENTORY_PORT: '0', BASKET_PORT: '0', ORDER_COMMAND_PORT: '0', ORDER_QUERY_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => done({ code, out }));
  });
}

describe('NODE_ENV=production', () => {
  it.each(['catalog', 'inventory', 'order-command', 'order-query', 'relay'])(
    "%s refuses to start with PG_PASSWORD unset or its role's development password, naming PG_PASSWORD",
    async (service) => {
      const role = service.replace('-', '_');
      for (const password of ['', `${role}-dev-password`]) {
        const { code, out } = await run(service, { NODE_ENV: 'production', ADMIN_TOKEN, PG_PASSWORD: password });
        expect(code).toBe(1);
        expect(out).toMatch(password ? new RegExp(`PG_PASSWORD: is the development password of ${role}`) : /PG_PASSWORD: is the development default/);
        expect(out).not.toMatch(/listening/);
      }
    },
    60_000,
  );

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

  it.each(['catalog', 'order-query'])(
    '%s refuses an admin token shorter than 32 characters, naming ADMIN_TOKEN',
    async (service) => {
      const { code, out } = await run(service, { NODE_ENV: 'production', ADMIN_TOKEN: 'an-operator-secret' });
      expect(code).toBe(1);
      expect(out).toMatch(/ADMIN_TOKEN: is shorter than 32 characters/);
      expect(out).not.toMatch(/an-operator-secret|listening/);
    },
    30_000,
  );

  it.each(['basket', 'order-command', 'order-query'])(
    '%s refuses the development JWT secret, naming AUTH_JWT_SECRET',
    async (service) => {
      const refused = await run(service, { NODE_ENV: 'production', ADMIN_TOKEN });
      expect(refused.code).toBe(1);
      expect(refused.out).toMatch(/AUTH_JWT_SECRET: is the development default/);
      expect(refused.out).not.toMatch(/listening/);
    },
    30_000,
  );

  it.each([
    ['a JWT secret shorter than 32 bytes', { AUTH_JWT_SECRET: 'a-jwt-secret-of-the-operator' }, /AUTH_JWT_SECRET: is shorter than 32 bytes/],
    ['a JWKS URL that is not https', { AUTH_JWKS_URL: 'http://id.example/.well-known/jwks.json' }, /AUTH_JWKS_URL: is not an https:\/\/ URL/],
  ])(
    'order-query refuses %s, naming it',
    async (_what, env, message) => {
      const refused = await run('order-query', { NODE_ENV: 'production', ADMIN_TOKEN, ...env });
      expect(refused.code).toBe(1);
      expect(refused.out).toMatch(message);
      expect(refused.out).not.toMatch(/listening/);
    },
    30_000,
  );
});
