import { byVersion, isNewer, isStale, stale } from './versions';

describe('isNewer and stale', () => {
  it('is the one ordering rule: strictly newer, or nothing held yet', () => {
    expect(isNewer(3, 2)).toBe(true);
    expect(isNewer(5, 3)).toBe(true);
    expect(isNewer(2, 3)).toBe(false);
    expect(isNewer(3, 3)).toBe(false);
    expect(isNewer(1, undefined)).toBe(true);
  });
  it('tells a stale result from an applied one', () => {
    expect(isStale(stale(3, 2))).toBe(true);
    expect(isStale(undefined)).toBe(false);
    expect(isStale('applied')).toBe(false);
  });
});

describe('byVersion', () => {
  const outcome = { absent: 'create', newer: 'apply' } as const;
  it('names the outcome for nothing held and for a newer event, and is stale otherwise', () => {
    expect(byVersion(undefined, 1, outcome)).toBe('create');
    expect(byVersion(2, 3, outcome)).toBe('apply');
    expect(byVersion(3, 3, outcome)).toEqual(stale(3, 3));
    expect(byVersion(4, 2, outcome)).toEqual(stale(4, 2));
  });
});
