import { PlaceOrderBody } from './use-cases';

// POST /orders' body: the optional basket revision the order is placed from, passed on in OrderPlaced.
describe("PlaceOrder's basketRevision", () => {
  const body = (over: Record<string, unknown> = {}) => ({
    basketId: 'b1',
    items: [{ productId: '4f0c7d2e-6a51-4c1b-9a0e-2f7c1d9b8e11', price: 250, quantity: 2 }],
    ...over,
  });
  const parse = (over: Record<string, unknown>) => PlaceOrderBody(10).safeParse(body(over));

  it('given a whole number from 1, then the body carries it; given none, then the body has none', () => {
    expect(parse({ basketRevision: 1 })).toMatchObject({ success: true, data: { basketRevision: 1 } });
    expect(parse({ basketRevision: 37 })).toMatchObject({ success: true, data: { basketRevision: 37 } });
    const without = parse({});
    expect(without.success && 'basketRevision' in without.data).toBe(false);
  });
  it.each([
    ['0', 0],
    ['a negative number', -2],
    ['a fraction', 1.5],
    ['a string', '3'],
    ['null', null],
    ['a number past the safe integers', 2 ** 53],
  ])('given %s, then it is refused, naming basketRevision', (_what, basketRevision) => {
    const res = parse({ basketRevision });
    expect(res.success).toBe(false);
    expect(new Set(res.error?.issues.map((i) => i.path.join('.')))).toEqual(new Set(['basketRevision']));
  });
});
