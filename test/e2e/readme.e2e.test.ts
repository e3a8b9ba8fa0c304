// The README's walkthroughs, run word for word against the running shop.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadInfra } from '@qtshop/shared';
import { isReadOnly, outputMatches, parseConsoleBlocks, Shell } from './console-blocks';
import { provideInfrastructure, type Infrastructure } from './infrastructure';
import { startShop, waitForConsumersCaughtUp, type RunningShop } from './shop';

const root = resolve(import.meta.dirname, '../..');
const steps = parseConsoleBlocks(readFileSync(resolve(root, 'README.md'), 'utf8'));

let infra: Infrastructure;
let shop: RunningShop;
let shell: Shell;

beforeAll(async () => {
  infra = await provideInfrastructure();
  shop = await startShop(infra);
  await waitForConsumersCaughtUp(loadInfra({ ...process.env, ...infra.env }).kafka.brokers);
  shell = new Shell(root, { ...process.env, ...infra.env });
}, 600_000);
afterAll(async () => {
  shell?.close();
  await shop?.stop();
  await infra?.stop();
}, 120_000);

describe('README walkthroughs', () => {
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
