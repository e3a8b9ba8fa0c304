import { lagOf } from '../kafka-lag';
import { judgeGroup, judgeOutbox, type PipelineStatus } from './pipeline-status';
import { renderStatus } from './status-report';

const limits = { repairAfterMs: 30_000, readyMaxAgeMs: 60_000 };
const running = {
  connector: { name: 'c', state: 'RUNNING' as const },
  slot: { name: 's', exists: true, active: true, walStatus: 'reserved', retainedBytes: 1000 },
  unconfirmed: 0,
  oldestUnconfirmedS: 0,
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

describe('renderStatus', () => {
  const status: PipelineStatus = {
    at: '2026-01-01T00:00:00.000Z',
    relayMode: { mode: 'debezium', from: 'relay' },
    outboxes: [{ database: 'catalog', level: 'ok', problems: [], ...running }],
    consumerGroups: [],
    deadLetters: [
      { topic: 't', dlqTopic: 't.dlq', exists: true, messages: 2, pending: 2, level: 'bad', problems: ['2 dead-lettered message(s) not redriven'] },
    ],
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
});
