import { judgePgNodes, unsyncedSlots, type PgNodeState } from './pg-nodes';

const primary = (over: Partial<PgNodeState> = {}): PgNodeState => ({
  id: 1,
  port: 55442,
  role: 'primary',
  standbys: [{ name: 'node_2', state: 'streaming', lagBytes: 0, sync: 'sync' }],
  slots: [{ name: 'qtshop_catalog_outbox', failover: true, synced: false }],
  ...over,
});
const standby = (over: Partial<PgNodeState> = {}): PgNodeState => ({
  id: 2,
  port: 55452,
  role: 'standby',
  slots: [{ name: 'qtshop_catalog_outbox', failover: true, synced: true }],
  ...over,
});

describe('judgePgNodes', () => {
  it('finds nothing wrong with a primary, a streaming standby and every failover slot copied', () => {
    expect(judgePgNodes([primary(), standby()])).toEqual([]);
    expect(judgePgNodes([])).toEqual([]);
  });

  it('is bad without a primary, and bad with two', () => {
    expect(judgePgNodes([primary({ role: 'down', standbys: undefined, slots: [] }), standby()])[0]).toEqual([
      'bad',
      expect.stringContaining('no node is the primary'),
    ]);
    expect(judgePgNodes([primary(), primary({ id: 2 })])[0]).toEqual(['bad', expect.stringContaining('split brain')]);
  });

  it('warns when the standby is gone, not streaming, or far behind', () => {
    expect(judgePgNodes([primary(), standby({ role: 'down', slots: [] })])).toEqual([['warn', expect.stringContaining('no standby')]]);
    expect(judgePgNodes([primary({ standbys: [] }), standby()])).toEqual([['warn', expect.stringContaining('not streaming')]]);
    expect(judgePgNodes([primary({ standbys: [{ name: 'node_2', state: 'streaming', lagBytes: 64 << 20, sync: 'sync' }] }), standby()])).toEqual([
      ['warn', expect.stringContaining('bytes behind')],
    ]);
  });

  it('warns about failover slots without their copy, and slots that will not survive a failover', () => {
    const nodes = [
      primary({
        slots: [
          { name: 'a', failover: true, synced: false },
          { name: 'b', failover: false, synced: false },
        ],
      }),
      standby({ slots: [] }),
    ];
    expect(unsyncedSlots(nodes)).toEqual(['a']);
    expect(judgePgNodes(nodes)).toEqual([
      ['warn', 'failover slot(s) not yet synchronized to the standby: a'],
      ['warn', 'slot(s) without failover, lost at a failover: b'],
    ]);
  });

  it('does not count a copy still being created (temporary) as synchronized', () => {
    expect(unsyncedSlots([primary(), standby({ slots: [{ name: 'qtshop_catalog_outbox', failover: true, synced: false }] })])).toEqual([
      'qtshop_catalog_outbox',
    ]);
  });
});
