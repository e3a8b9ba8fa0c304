import { formatTable } from './text-table';

describe('formatTable', () => {
  it('pads every column to its widest cell, two spaces apart', () => {
    expect(
      formatTable([
        ['component', 'pid'],
        ['kafka', '12345'],
        ['connect', '7'],
      ]),
    ).toEqual(['component  pid  ', 'kafka      12345', 'connect    7    ']);
  });

  it('prints nothing for no rows', () => {
    expect(formatTable([])).toEqual([]);
  });
});
