import { AdjustStockBody, adjustStock, keyDecision, MAX_QUANTITY } from './adjustment';

describe('an adjustment changes the stock relative to what it is', () => {
  it('given a stock of 80 (20 reserved since the keeper read 100), when restocked by 10, then it is 90: no reservation is erased', () => {
    expect(adjustStock(80, 10)).toEqual({ outcome: 'adjusted', quantity: 90 });
  });
  it('given a stock of 5, when 5 are written off, then it is 0', () => {
    expect(adjustStock(5, -5)).toEqual({ outcome: 'adjusted', quantity: 0 });
  });
  it('given a stock of 5, when 6 are written off, then it is refused as insufficient, naming the stock and the delta', () => {
    expect(adjustStock(5, -6, 'p1')).toEqual({
      outcome: 'refused',
      refusal: 'insufficient_stock',
      message: 'insufficient stock for p1: the stock is 5, a delta of -6 would leave -1',
    });
  });
  it('given a stock at the limit, when restocked by 1, then it is refused: a stock never exceeds what PUT may set', () => {
    expect(adjustStock(MAX_QUANTITY, 1)).toMatchObject({ outcome: 'refused', refusal: 'stock_limit_exceeded' });
    expect(adjustStock(MAX_QUANTITY - 1, 1)).toEqual({ outcome: 'adjusted', quantity: MAX_QUANTITY });
  });
});

describe('the body of an adjustment', () => {
  const ok = (body: unknown) => AdjustStockBody.safeParse(body).success;
  it('given a non-zero integer delta within a billion and a reason of 1-200 characters, then it is accepted (the reason trimmed)', () => {
    expect(AdjustStockBody.parse({ delta: -3, reason: '  broken in transit ' })).toEqual({ delta: -3, reason: 'broken in transit' });
    expect(ok({ delta: MAX_QUANTITY, reason: 'x'.repeat(200) })).toBe(true);
    expect(ok({ delta: -MAX_QUANTITY, reason: 'x' })).toBe(true);
  });
  it('given a delta of 0, fractional, over a billion or a string, then it is refused', () => {
    for (const delta of [0, 1.5, MAX_QUANTITY + 1, -MAX_QUANTITY - 1, '10']) expect(ok({ delta, reason: 'restock' })).toBe(false);
  });
  it('given no reason, an empty or blank one, one over 200 characters, or an unknown field, then it is refused', () => {
    expect(ok({ delta: 1 })).toBe(false);
    expect(ok({ delta: 1, reason: '' })).toBe(false);
    expect(ok({ delta: 1, reason: '   ' })).toBe(false);
    expect(ok({ delta: 1, reason: 'x'.repeat(201) })).toBe(false);
    expect(ok({ delta: 1, reason: 'restock', quantity: 3 })).toBe(false);
  });
});

describe('an Idempotency-Key makes a retried adjustment apply once', () => {
  const body = { delta: 10, reason: 'restock' };
  it('given a key not used for this product, when an adjustment comes with it, then it is applied', () => {
    expect(keyDecision(undefined, body)).toBe('apply');
  });
  it('given a key used for the same delta and reason, when the request comes again, then the first adjustment is answered again', () => {
    expect(keyDecision({ delta: 10, reason: 'restock' }, body)).toBe('replay');
  });
  it('given a key used for another delta or reason, when a request comes with it, then it is refused as a reused key', () => {
    expect(keyDecision({ delta: 20, reason: 'restock' }, body)).toBe('reused');
    expect(keyDecision({ delta: 10, reason: 'count' }, body)).toBe('reused');
  });
});
