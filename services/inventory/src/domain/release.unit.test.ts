import { stale } from '@qtshop/shared/events';
import { decideRelease, RELEASE_VERSION } from './release';

describe('releasing the stock of an order that ended', () => {
  const reserved = [
    { productId: 'p1', quantity: 3 },
    { productId: 'p2', quantity: 1 },
  ];

  it('given a reservation, when the order is cancelled or rejected, then its lines are given back', () => {
    expect(decideRelease({ version: 1, outcome: 'reserved', reserved })).toEqual({ action: 'release', lines: reserved });
  });

  it('given a refusal, when the order ends, then nothing is given back and the decision is closed', () => {
    expect(decideRelease({ version: 1, outcome: 'rejected', reserved: null })).toEqual({ action: 'close' });
  });

  it('given a decision taken before outcomes were kept, when the order ends, then it is closed (nothing known to give back)', () => {
    expect(decideRelease({ version: 1, outcome: null, reserved: null })).toEqual({ action: 'close' });
  });

  it('given no decision yet, when the order ends, then a void decision keeps a later OrderPlaced from reserving', () => {
    expect(decideRelease(undefined)).toEqual({ action: 'void' });
  });

  it('given a decision released or voided already, when the order ends again, then it is stale: nothing is given back twice', () => {
    expect(decideRelease({ version: RELEASE_VERSION, outcome: 'reserved', reserved })).toEqual(stale(RELEASE_VERSION, RELEASE_VERSION));
    expect(decideRelease({ version: RELEASE_VERSION, outcome: 'void', reserved: null })).toEqual(stale(RELEASE_VERSION, RELEASE_VERSION));
  });
});
