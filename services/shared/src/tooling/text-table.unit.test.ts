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

describe('formatTable with a style', () => {
  it('pads before styling, so escape codes do not shift the columns', () => {
    const red = (s: string) => `\x1b[31m${s}\x1b[0m`;
    const lines = formatTable(
      [
        ['a', 'b'],
        ['long', 'x'],
      ],
      (cell, row, col) => (row === 1 && col === 0 ? red(cell) : cell),
    );
    expect(lines).toEqual(['a     b', `${red('long')}  x`]);
  });
});
