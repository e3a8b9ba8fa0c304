import { configDrift, describeDrift } from './connector-drift';

const committed = {
  name: 'orders-outbox',
  'database.password': '${env:PG_PASSWORD}',
  'transforms.outbox.route.topic.replacement': 'qtshop.${routedByValue}',
  'poll.interval.ms': '50',
};

describe('configDrift', () => {
  it('finds nothing when Connect answers the committed file plus the name it adds itself', () => {
    const { name: _name, ...body } = committed;
    expect(configDrift(committed, { ...body, name: 'orders-outbox' })).toEqual([]);
  });

  it('names changed, added and removed keys with both values, in key order', () => {
    const running = { ...committed, 'transforms.outbox.route.topic.replacement': 'qtshop.inventory', 'max.batch.size': '10' } as Record<string, string>;
    delete running['poll.interval.ms'];
    expect(configDrift(committed, running)).toEqual([
      { key: 'max.batch.size', running: '10' },
      { key: 'poll.interval.ms', committed: '50' },
      { key: 'transforms.outbox.route.topic.replacement', running: 'qtshop.inventory', committed: 'qtshop.${routedByValue}' },
    ]);
  });

  it('leaves out the values of keys that look like secrets', () => {
    const drift = configDrift(committed, {
      ...committed,
      'database.password': 'hunter2',
      'sasl.jaas.config': 'user="x" password="y"',
      'schema.history.url': 'jdbc:postgresql://h/db?user=x&password=z',
    });
    expect(drift).toEqual([
      { key: 'database.password', hidden: true },
      { key: 'sasl.jaas.config', hidden: true },
      { key: 'schema.history.url', hidden: true },
    ]);
    expect(describeDrift(drift)).not.toMatch(/hunter2|password="y"|password=z|PG_PASSWORD/);
  });
});

describe('describeDrift', () => {
  it('says each key with its running and committed value, unset when absent', () => {
    expect(
      describeDrift([
        { key: 'a', running: 'x', committed: 'y' },
        { key: 'b', committed: '1' },
        { key: 'database.password', hidden: true },
      ]),
    ).toBe('a is "x" (committed "y"), b is unset (committed "1"), database.password differs (value hidden)');
  });
});
