import { etagOf, ifMatch } from './precondition';

describe("a stock item's ETag is its version", () => {
  it('given version 7, then the ETag is the strong "7"', () => {
    expect(etagOf(7)).toBe('"7"');
  });
});

describe('If-Match lets a change proceed only on the version the client read', () => {
  it('given no If-Match, when the item is set, then it proceeds: an absolute set, as before', () => {
    expect(ifMatch(undefined, 3)).toBe('proceed');
  });
  it("given If-Match with the item's current ETag, then it proceeds", () => {
    expect(ifMatch('"3"', 3)).toBe('proceed');
  });
  it('given If-Match with an older ETag (the item changed since the read), then it is stale', () => {
    expect(ifMatch('"2"', 3)).toBe('stale');
  });
  it('given If-Match: *, then it proceeds for any existing item', () => {
    expect(ifMatch('*', 3)).toBe('proceed');
    expect(ifMatch(' * ', 1)).toBe('proceed');
  });
  it('given a list of ETags, then it proceeds when one of them is current', () => {
    expect(ifMatch('"1", "3"', 3)).toBe('proceed');
    expect(ifMatch('"1","2"', 3)).toBe('stale');
  });
  it('given a weak ETag of the current version, then it is stale: If-Match compares strongly', () => {
    expect(ifMatch('W/"3"', 3)).toBe('stale');
  });
  it('given a malformed If-Match (unquoted, empty, garbage), then it is stale and nothing changes', () => {
    for (const header of ['3', '', '""', '"3', 'abc', '"03"']) expect(ifMatch(header, 3)).toBe('stale');
  });
});
