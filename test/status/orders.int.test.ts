// npm run status's orders line, read from order-command's database (ORDER_COMMAND_DB, here a scratch one):
// an order placed three minutes ago whose stock decision never came, judged against
// STATUS_ORDER_PENDING_WARN_MS and STATUS_ORDER_PENDING_FAIL_MS, and nothing pending once it is decided.
import { randomUUID } from 'node:crypto';
import { migrateLatest } from '@qtshop/shared/tooling';
import type { PipelineStatus } from '@qtshop/shared/tooling';
import { MIGRATIONS } from '../../migrations';
import { appendEvents } from '../../services/order-command/src/store';
import { cli } from '../delivery/support';
import { scratchDb, type ScratchDb } from '../support/scratch';

let scratch: ScratchDb;
const stuck = randomUUID();
const decided = randomUUID();

const placed = (orderId: string) => ({
  type: 'OrderPlaced',
  data: { orderId, basketId: 'b', items: [{ productId: randomUUID(), price: 100, quantity: 1 }], total: 100 },
});

beforeAll(async () => {
  scratch = await scratchDb('status_orders');
  await migrateLatest(scratch.db, MIGRATIONS.orders);
  // One decided at once, and one placed three minutes ago (written as the stream's clock would have it then).
  await scratch.db.transaction(async (trx) => {
    await appendEvents(trx, decided, 0, [placed(decided)]);
    await appendEvents(trx, decided, 1, [{ type: 'OrderConfirmed', data: { orderId: decided } }]);
  });
  const { type, data } = placed(stuck);
  await scratch
    .db('order_events')
    .insert({ order_id: stuck, version: 1, type, data: JSON.stringify(data), occurred_at: scratch.db.raw(`now() - interval '3 minutes'`) });
}, 60_000);
afterAll(() => scratch?.drop());

/** npm run status against the scratch orders database; the rest of the pipeline is whatever the stack holds. */
const status = (args: string[], env: Record<string, string> = {}) =>
  cli('scripts/status.ts', args, { ORDER_COMMAND_DB: scratch.name, OUTBOX_DATABASES: 'catalog', ...env });

describe('npm run status: orders waiting for their stock decision', () => {
  it('fails on an order waiting past STATUS_ORDER_PENDING_FAIL_MS (2 min by default), naming it, in --json and the tables', async () => {
    const json = await status(['--json']);
    expect(json.stderr).toBe('');
    const s = JSON.parse(json.stdout) as PipelineStatus;
    expect(s.orders).toMatchObject({ database: scratch.name, pending: 1, oldestOrderId: stuck, level: 'bad' });
    if ('error' in s.orders) throw new Error(s.orders.error);
    expect(s.orders.oldestPendingS).toBeGreaterThanOrEqual(180);
    expect(s.orders.problems).toEqual([
      expect.stringMatching(new RegExp(`^order ${stuck} has waited 3 min \\d+ s for its stock decision \\(limit 2 min 0 s\\); 1 order\\(s\\) pending$`)),
    ]);
    expect(s.problems).toContainEqual({ level: 'bad', where: `orders ${scratch.name}`, message: s.orders.problems[0] });
    expect(s.level).toBe('bad');

    const { stdout } = await status([]);
    expect(stdout).toMatch(/^orders: 1 pending, oldest 3 min \d+ s {3}FAIL$/m);
    expect(stdout).toMatch(new RegExp(`^ {2}FAIL orders ${scratch.name}: order ${stuck} has waited`, 'm'));
  }, 60_000);

  it('only warns when the settings put the failure limit past its age', async () => {
    const s = JSON.parse((await status(['--json'], { STATUS_ORDER_PENDING_FAIL_MS: '600000' })).stdout) as PipelineStatus;
    expect(s.orders).toMatchObject({ pending: 1, level: 'warn', problems: [expect.stringMatching(/has waited 3 min \d+ s for its stock decision; 1 order/)] });
    const quiet = JSON.parse(
      (await status(['--json'], { STATUS_ORDER_PENDING_WARN_MS: '600000', STATUS_ORDER_PENDING_FAIL_MS: '900000' })).stdout,
    ) as PipelineStatus;
    expect(quiet.orders).toMatchObject({ pending: 1, level: 'ok', problems: [] });
  }, 60_000);

  it('shows nothing pending once the decision is appended', async () => {
    await scratch.db.transaction((trx) => appendEvents(trx, stuck, 1, [{ type: 'OrderRejected', data: { orderId: stuck, reason: 'out of stock' } }]));
    const { stdout } = await status([]);
    expect(stdout).toMatch(/^orders: 0 pending {3}ok$/m);
    expect(stdout).not.toMatch(/FAIL orders/);
  }, 60_000);

  it("fails, saying why, when the orders cannot be read (a database without order-command's tables)", async () => {
    const s = JSON.parse((await status(['--json'], { ORDER_COMMAND_DB: 'postgres' })).stdout) as PipelineStatus;
    expect(s.orders).toMatchObject({ database: 'postgres', level: 'bad', problems: ['not observable: relation "pending_orders" does not exist'] });
  }, 60_000);
});
