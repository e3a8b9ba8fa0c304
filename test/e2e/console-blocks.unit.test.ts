import { isReadOnly, lineMatches, outputMatches, parseConsoleBlocks } from './console-blocks';

describe('Markdown console blocks', () => {
  it('splits blocks into commands and the output documented after each', () => {
    const md = 'text\n```console\n$ A=1\n$ echo $A\n1\n```\nmore\n```bash\nnpm start\n```\n```console\n$ curl -s x\n{"a":1}\n```\n';
    expect(parseConsoleBlocks(md)).toEqual([
      { block: 1, command: 'A=1', expected: [] },
      { block: 1, command: 'echo $A', expected: ['1'] },
      { block: 2, command: 'curl -s x', expected: ['{"a":1}'] },
    ]);
  });

  it('compares JSON lines as JSON, with … standing for any value or any part of a string', () => {
    expect(lineMatches('{"id":"…","n":1,"s":"x …!"}', '{"n":1,"id":42,"s":"x yz!"}')).toBe(true);
    expect(lineMatches('{"id":"…","n":1}', '{"id":"a","n":2}')).toBe(false);
    expect(lineMatches('{"id":"…"}', '{"id":"a","extra":true}')).toBe(false);
    expect(lineMatches('[{"a":"…"}]', '[{"a":1},{"a":2}]')).toBe(false);
  });

  it('compares other lines as text with … as a wildcard, and counts lines', () => {
    expect(lineMatches('true', 'true')).toBe(true);
    expect(lineMatches('took … ms', 'took 12 ms')).toBe(true);
    expect(lineMatches('took … ms', 'took 12 s')).toBe(false);
    expect(outputMatches(['a'], ['a', 'b'])).toBe(false);
  });

  it('repeats only commands that change nothing', () => {
    expect(isReadOnly('curl -s localhost:3001/products/$P')).toBe(true);
    expect(isReadOnly("curl -s -X PUT localhost:3002/inventory/$P -d '{}'")).toBe(false);
    expect(isReadOnly("O=$(curl -s localhost:3004/orders -H 'x' -d '{}')")).toBe(false);
  });
});
