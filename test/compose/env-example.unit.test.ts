// .env.example and docker/tools.env checked statically: every variable the compose files read is
// in .env.example, the secrets as placeholders (docker/new-secrets.sh replaces each) and every other one
// documented with the default the files give it; and docker/tools.env points the npm run tools at compose's
// stack with settings they accept.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { infraSettings } from '@qtshop/shared/infra';
import { loadConfig, loggingSettings } from '@qtshop/shared/platform';
import { allStrings, COMPOSE_FILES, envExample, IMAGE_ENV, publishedPorts, read, root, SECRET_PLACEHOLDER, services, varRefsIn } from './compose-file';

/** Every `${VAR...}` of both compose files, comments aside (YAML drops them), by variable. */
const refs = COMPOSE_FILES.flatMap(([file, content]) => allStrings(content).flatMap((s) => varRefsIn(s).map((r) => ({ file, ...r }))));
const example = envExample();

describe('.env.example', () => {
  it('sets every secret the compose files require (`${VAR:?message}`) to the placeholder, and no other variable but COMPOSE_PROFILES', () => {
    const required = [...new Set(refs.filter((r) => r.kind === 'required').map((r) => r.name))].sort();
    expect(required.length).toBeGreaterThan(10);
    const placeholders = Object.entries(example.set).filter(([, v]) => v === SECRET_PLACEHOLDER);
    expect(placeholders.map(([k]) => k).sort()).toEqual(required);
    expect(Object.keys(example.set).filter((k) => !required.includes(k))).toEqual(['COMPOSE_PROFILES']);
  });

  it('gives each required variable a message that says how to set it', () => {
    for (const r of refs.filter((x) => x.kind === 'required')) expect({ ...r, message: (r.fallback ?? '').length > 10 }).toEqual({ ...r, message: true });
  });

  it('documents every other variable the compose files read, with the default both files give it', () => {
    const defaulted = refs.filter((r) => r.kind === 'default');
    const defaults = new Map<string, Set<string>>();
    for (const r of defaulted) (defaults.get(r.name) ?? defaults.set(r.name, new Set()).get(r.name)!).add(r.fallback ?? '');
    // One default per variable, wherever it is read.
    expect([...defaults].filter(([, d]) => d.size > 1).map(([name, d]) => ({ name, defaults: [...d] }))).toEqual([]);
    expect(Object.fromEntries([...defaults].map(([name, d]) => [name, example.documented[name]]))).toEqual(
      Object.fromEntries([...defaults].map(([name, d]) => [name, [...d][0]])),
    );
    // And documents nothing the files do not read.
    expect(Object.keys(example.documented).filter((k) => !defaults.has(k))).toEqual([]);
  });

  it('turns on only profiles the compose files have', () => {
    const profiles = new Set(COMPOSE_FILES.flatMap(([, c]) => Object.values(c.services).flatMap((s) => s.profiles ?? [])));
    const wanted = (example.set.COMPOSE_PROFILES ?? '').split(',').filter(Boolean);
    expect(wanted.length).toBeGreaterThan(0);
    for (const p of wanted) expect({ p, exists: profiles.has(p) }).toEqual({ p, exists: true });
  });
});

describe('docker/tools.env', () => {
  /** The environment the npm run tools get: .env (here .env.example) and docker/tools.env read by the shell. */
  const toolsEnv = (dotenv: string): Record<string, string> => {
    const out = execFileSync('sh', ['-c', `set -a; . "${dotenv}"; . docker/tools.env; set +a; env -0`], {
      cwd: root,
      env: { PATH: process.env.PATH },
      encoding: 'utf8',
    });
    return Object.fromEntries(
      out
        .split('\0')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  };

  it('sets only documented infrastructure settings', () => {
    const names = [...read('docker/tools.env').matchAll(/^([A-Z_][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => !(n in infraSettings))).toEqual([]);
  });

  it('points the tools at the ports compose publishes, as the operator, with settings they accept under NODE_ENV=production', () => {
    const env = toolsEnv('./.env.example');
    const infra = loadConfig({ ...infraSettings, ...loggingSettings }, { ...IMAGE_ENV, ...env });
    expect(Number(infra.PG_PORT)).toBe(publishedPorts(services.postgres!)[0]!.host);
    expect(infra.PG_USER).toBe('postgres');
    expect(infra.PG_PASSWORD).toBe(example.set.PG_SUPERUSER_PASSWORD);
    expect(infra.KAFKA_PASSWORD).toBe(example.set.KAFKA_OPERATOR_PASSWORD);
    expect(infra.CONNECT_PASSWORD).toBe(example.set.CONNECT_OPERATOR_PASSWORD);
    const mongo = new URL(String(infra.MONGO_URL));
    expect({ host: mongo.host, user: mongo.username, password: mongo.password }).toEqual({
      host: `127.0.0.1:${publishedPorts(services.mongo!)[0]!.host}`,
      user: 'qtshop',
      password: example.set.MONGO_ROOT_PASSWORD,
    });
  });

  it('follows the ports the .env sets', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qtshop-tools-env-'));
    try {
      writeFileSync(join(dir, '.env'), `${read('.env.example')}\nPG_PORT=15432\nMONGO_PORT=27018\n`);
      const env = toolsEnv(join(dir, '.env'));
      expect(env.PG_PORT).toBe('15432');
      expect(new URL(env.MONGO_URL!).port).toBe('27018');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
