// The walkthroughs of docs/walkthroughs.md, run word for word against the running shop; every request they make and
// every response they get must match the service's OpenAPI document (contracts/http/), and every service
// serves that document at /openapi.json.
import { execSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadInfra } from '@qtshop/shared/infra';
import { SHOP_SERVICES } from '@qtshop/shared/tooling';
import { SERVICE_SETTINGS } from '../../scripts/service-settings';
import { exchangeProblems, readContract } from '../support/contracts';
import { curlExchange } from './curl-log';
import { isReadOnly, outputMatches, parseConsoleBlocks, Shell } from './console-blocks';
import { provideInfrastructure, type Infrastructure } from './infrastructure';
import { startShop, waitForConsumersCaughtUp, type RunningShop } from './shop';

const root = resolve(import.meta.dirname, '../..');
const steps = parseConsoleBlocks(readFileSync(resolve(root, 'docs/walkthroughs.md'), 'utf8'));

let infra: Infrastructure;
let shop: RunningShop;
let shell: Shell;

// Each service's port: the walkthroughs' (the default) and this shop's (the environment's, as npm start reads it).
const portKey = (service: string) => `${service.replace('-', '_').toUpperCase()}_PORT`;
const ports = SHOP_SERVICES.map((service) => {
  const documented = SERVICE_SETTINGS[service][portKey(service)]!.default;
  return { service, documented, actual: process.env[portKey(service)] ?? documented };
});
const logDir = mkdtempSync(join(tmpdir(), 'qtshop-curl-'));
const curlLog = join(logDir, 'exchanges.jsonl');

beforeAll(async () => {
  infra = await provideInfrastructure();
  shop = await startShop(infra);
  await waitForConsumersCaughtUp(loadInfra({ ...process.env, ...infra.env }).kafka, undefined, () => shop.output());
  shell = new Shell(root, {
    ...process.env,
    ...infra.env,
    PATH: `${resolve(import.meta.dirname, 'bin')}:${process.env.PATH}`,
    QTSHOP_REAL_CURL: execSync('command -v curl', { shell: '/bin/bash' }).toString().trim(),
    QTSHOP_CURL_LOG: curlLog,
    QTSHOP_PORT_MAP: JSON.stringify(Object.fromEntries(ports.map((p) => [p.documented, p.actual]))),
  });
}, 600_000);
afterAll(async () => {
  rmSync(logDir, { recursive: true, force: true });
  shell?.close();
  await shop?.stop();
  await infra?.stop();
}, 120_000);

describe('docs/walkthroughs.md walkthroughs', () => {
  it('has walkthrough commands to run', () => {
    expect(steps.length).toBeGreaterThan(20);
  });

  it.each(steps.map((s) => [`block ${s.block}: ${s.command.slice(0, 100)}`, s] as const))(
    '%s',
    async (_name, step) => {
      const deadline = Date.now() + (isReadOnly(step.command) ? 30_000 : 0);
      let res = await shell.run(step.command);
      while (res.code === 0 && !outputMatches(step.expected, res.lines) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        res = await shell.run(step.command);
      }
      expect(res.code).toBe(0);
      expect(res.lines).toHaveLength(step.expected.length);
      if (!outputMatches(step.expected, res.lines)) expect(res.lines).toEqual(step.expected); // shows the difference
    },
    60_000,
  );
});

describe('the contracts, on the running shop', () => {
  it.each(ports.map((p) => [p.service, p.actual] as const))('%s serves its committed OpenAPI document at /openapi.json', async (service, port) => {
    const res = await fetch(`http://127.0.0.1:${port}/openapi.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(readContract(`http/${service}.json`));
  });

  it('saw every walkthrough request and response match the OpenAPI document of its service', () => {
    expect(existsSync(curlLog)).toBe(true);
    const serviceOf = new Map(ports.map((p) => [p.actual, p.service]));
    const exchanges = readFileSync(curlLog, 'utf8').trim().split('\n').map(curlExchange);
    expect(new Set(exchanges.map((e) => serviceOf.get(e.port)))).toEqual(new Set(['catalog', 'inventory', 'basket', 'order-command', 'order-query']));
    const problems = exchanges.flatMap((e) => exchangeProblems(serviceOf.get(e.port) ?? `(no service on port ${e.port})`, e.exchange));
    expect(problems).toEqual([]);
  });
});
