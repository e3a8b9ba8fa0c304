import { lagOf } from '../delivery/kafka-lag';
import { judgeGroup, judgeOrders, judgeOutbox, type PipelineStatus } from './pipeline-status';
import { renderStatus } from './status-report';

const limits = { repairAfterMs: 30_000, readyMaxAgeMs: 60_000 };
const running = {
  connector: { name: 'c', state: 'RUNNING' as const },
  slot: { name: 's', exists: true, active: true, walStatus: 'reserved', retainedBytes: 1000, failover: null },
  unconfirmed: 0,
  oldestUnconfirmedS: 0,
  misrouted: 0,
  quarantined: 0,
};

describe('lagOf', () => {
  it('counts from the committed offset, or from the oldest retained one when none is committed or it was deleted', () => {
    expect(lagOf('5', '0', '8')).toBe(3);
    expect(lagOf(null, '2', '8')).toBe(6);
    expect(lagOf('1', '4', '8')).toBe(4);
    expect(lagOf('8', '0', '8')).toBe(0);
  });
});

describe('judgeOutbox', () => {
  it('finds nothing wrong with a running connector and nothing waiting', () => {
    expect(judgeOutbox(running, 'debezium', limits)).toEqual({ level: 'ok', problems: [] });
  });
  it('warns of a paused connector and fails on a failed one or a row older than the ready limit', () => {
    expect(judgeOutbox({ ...running, connector: { name: 'c', state: 'PAUSED' } }, 'debezium', limits).level).toBe('warn');
    expect(judgeOutbox({ ...running, connector: { name: 'c', state: 'FAILED', detail: 'task 0 failed: x' } }, 'debezium', limits).problems[0]).toEqual([
      'bad',
      "connector c is FAILED (task 0 failed: x); the relay's repair publishes meanwhile",
    ]);
    expect(judgeOutbox({ ...running, unconfirmed: 2, oldestUnconfirmedS: 45 }, 'debezium', limits).level).toBe('warn');
    expect(judgeOutbox({ ...running, unconfirmed: 2, oldestUnconfirmedS: 61 }, 'debezium', limits).level).toBe('bad');
  });
  it('in polling mode, expects no connector and warns of a slot left behind', () => {
    const polling = { ...running, connector: { name: 'c', state: 'MISSING' as const }, slot: { ...running.slot, exists: false, active: false } };
    expect(judgeOutbox(polling, 'polling', limits)).toEqual({ level: 'ok', problems: [] });
    expect(judgeOutbox({ ...polling, slot: running.slot }, 'polling', limits).problems).toEqual([
      ['warn', expect.stringMatching(/slot s exists in polling mode/)],
    ]);
  });
  it('warns of quarantined rows and says how to list them', () => {
    expect(judgeOutbox({ ...running, quarantined: 2 }, 'debezium', limits)).toEqual({
      level: 'warn',
      problems: [['warn', '2 quarantined row(s): npm run outbox -- quarantined']],
    });
  });
  it('fails on a connector whose configuration drifted from its file, in either mode, and on rows seen misrouted', () => {
    const drift = [{ key: 'transforms.outbox.route.topic.replacement', running: 'qtshop.inventory', committed: 'qtshop.${routedByValue}' }];
    const judged = judgeOutbox({ ...running, connector: { ...running.connector, drift } }, 'debezium', limits);
    expect(judged).toEqual({
      level: 'bad',
      problems: [
        [
          'bad',
          'connector c\'s configuration differs from connect-config/c.json: transforms.outbox.route.topic.replacement is "qtshop.inventory" (committed "qtshop.${routedByValue}"); the active relay restores it unless CONNECT_RESTORE_DRIFT=false',
        ],
      ],
    });
    expect(judgeOutbox({ ...running, connector: { ...running.connector, drift: [] } }, 'debezium', limits).level).toBe('ok');
    expect(judgeOutbox({ ...running, unconfirmed: 1, misrouted: 1 }, 'debezium', limits)).toEqual({
      level: 'bad',
      problems: [['bad', '1 undelivered row(s) whose record was seen on a wrong topic or with a wrong key; the repair publishes them to their own topic']],
    });
  });
  it('warns of retained WAL past 1 GiB', () => {
    expect(judgeOutbox({ ...running, slot: { ...running.slot, retainedBytes: 2 * 1024 ** 3 } }, 'debezium', limits).problems).toEqual([
      ['warn', 'replication slot s retains 2.0 GiB of WAL'],
    ]);
  });
});

describe('judgeGroup', () => {
  const group = { group: 'g', state: 'Stable', members: 1, partitions: [], lag: 0 };
  it('fails when nobody consumes and messages wait; warns of lag while members consume', () => {
    expect(judgeGroup(group).level).toBe('ok');
    expect(judgeGroup({ ...group, lag: 3 }).level).toBe('warn');
    expect(judgeGroup({ ...group, state: 'Empty', members: 0, lag: 3 })).toEqual({
      level: 'bad',
      problems: [['bad', 'no member is consuming and 3 message(s) wait']],
    });
  });
});

describe('judgeOrders', () => {
  const orderLimits = { warnAfterMs: 30_000, failAfterMs: 120_000 };
  const order = '0b1e4a8c-2d5f-4f6e-9a7b-3c2d1e0f9a8b';
  it('finds nothing wrong while orders are decided within the warning limit, however many wait', () => {
    expect(judgeOrders({ pending: 0, oldestPendingS: 0 }, orderLimits)).toEqual({ level: 'ok', problems: [] });
    expect(judgeOrders({ pending: 250, oldestPendingS: 30, oldestOrderId: order }, orderLimits)).toEqual({ level: 'ok', problems: [] });
  });
  it('warns past the warning limit and fails past the failure limit, naming the oldest order', () => {
    expect(judgeOrders({ pending: 3, oldestPendingS: 31, oldestOrderId: order }, orderLimits)).toEqual({
      level: 'warn',
      problems: [['warn', `order ${order} has waited 31 s for its stock decision; 3 order(s) pending`]],
    });
    expect(judgeOrders({ pending: 1, oldestPendingS: 121, oldestOrderId: order }, orderLimits)).toEqual({
      level: 'bad',
      problems: [['bad', `order ${order} has waited 2 min 1 s for its stock decision (limit 2 min 0 s); 1 order(s) pending`]],
    });
  });
});

describe('renderStatus', () => {
  const status: PipelineStatus = {
    at: '2026-01-01T00:00:00.000Z',
    relayMode: { mode: 'debezium', from: 'relay' },
    outboxes: [{ database: 'catalog', level: 'ok', problems: [], ...running }],
    consumerGroups: [],
    deadLetters: [
      { topic: 't', dlqTopic: 't.dlq', exists: true, messages: 2, pending: 2, level: 'bad', problems: ['2 dead-lettered message(s) not redriven'] },
    ],
    orders: { database: 'orders', pending: 0, oldestPendingS: 0, level: 'ok', problems: [] },
    services: [],
    level: 'bad',
    problems: [{ level: 'bad', where: 'dead letters t.dlq', message: '2 dead-lettered message(s) not redriven' }],
  };
  it('colours problems in red on a terminal and writes plain text otherwise', () => {
    const plain = renderStatus(status, false);
    expect(plain).not.toContain('\x1b[');
    expect(plain).toMatch(/t\.dlq\s+2\s+2\s+FAIL/);
    expect(plain).toContain('1 problem(s):\n  FAIL dead letters t.dlq: 2 dead-lettered message(s) not redriven');
    expect(renderStatus(status, true)).toContain('\x1b[31m  FAIL dead letters t.dlq');
  });

  it('says how many orders are pending and how old the oldest is, with its level', () => {
    expect(renderStatus(status, false)).toMatch(/^orders: 0 pending   ok$/m);
    const stuck: PipelineStatus = {
      ...status,
      orders: { database: 'orders', pending: 2, oldestPendingS: 185, oldestOrderId: 'o', level: 'bad', problems: ['order o has waited'] },
    };
    expect(renderStatus(stuck, false)).toMatch(/^orders: 2 pending, oldest 3 min 5 s   FAIL$/m);
    expect(renderStatus(stuck, true)).toContain('\x1b[31morders: 2 pending, oldest 3 min 5 s   FAIL');
    const unknown: PipelineStatus = {
      ...status,
      orders: { database: 'orders', error: 'relation "pending_orders" does not exist', level: 'bad', problems: [] },
    };
    expect(renderStatus(unknown, false)).toMatch(/^orders \(orders\): unknown   FAIL$/m);
  });
});
