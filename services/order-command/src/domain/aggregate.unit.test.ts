import { decide, evolve, fold, initialState, OrderRuleViolation, type OrderEvent } from './aggregate';

const placed: OrderEvent = {
  type: 'OrderPlaced',
  data: {
    orderId: 'o1',
    basketId: 'b1',
    customerId: 'b1',
    items: [
      { productId: 'p1', price: 250, quantity: 2 },
      { productId: 'p2', price: 100, quantity: 1 },
    ],
    total: 600,
  },
};

describe('order decide/evolve', () => {
  it('given no events, when PlaceOrder, then OrderPlaced with the total of its lines', () => {
    expect(decide({ type: 'PlaceOrder', orderId: 'o1', basketId: 'b1', customerId: 'b1', items: placed.data.items }, initialState)).toEqual([placed]);
  });

  it('given OrderPlaced, when PlaceOrder again, then it is refused', () => {
    expect(() => decide({ type: 'PlaceOrder', orderId: 'o1', basketId: 'b1', customerId: 'b1', items: placed.data.items }, fold([placed]))).toThrow(
      OrderRuleViolation,
    );
  });

  it('given no events, when PlaceOrder with no lines, then it is refused', () => {
    expect(() => decide({ type: 'PlaceOrder', orderId: 'o1', basketId: 'b1', customerId: 'b1', items: [] }, initialState)).toThrow(/at least one line/);
  });

  it("given OrderPlaced, the order is its customer's; an order placed before customers existed has none", () => {
    expect(fold([placed])).toMatchObject({ status: 'Pending', customerId: 'b1' });
    const { customerId: _none, ...anonymous } = placed.data;
    expect(fold([{ type: 'OrderPlaced', data: anonymous }])).not.toHaveProperty('customerId');
  });

  it('given OrderPlaced, when ConfirmOrder, then OrderConfirmed; when RejectOrder, then OrderRejected with the reason', () => {
    expect(decide({ type: 'ConfirmOrder', orderId: 'o1' }, fold([placed]))).toEqual([{ type: 'OrderConfirmed', data: { orderId: 'o1' } }]);
    expect(decide({ type: 'RejectOrder', orderId: 'o1', reason: 'out of stock' }, fold([placed]))).toEqual([
      { type: 'OrderRejected', data: { orderId: 'o1', reason: 'out of stock' } },
    ]);
  });

  it('given a decided order, when another outcome arrives, then nothing is appended', () => {
    const confirmed = fold([placed, { type: 'OrderConfirmed', data: { orderId: 'o1' } }]);
    expect(decide({ type: 'ConfirmOrder', orderId: 'o1' }, confirmed)).toEqual([]);
    expect(decide({ type: 'RejectOrder', orderId: 'o1' }, confirmed)).toEqual([]);
  });

  it('given no events, when an outcome arrives, then it is refused', () => {
    expect(() => decide({ type: 'ConfirmOrder', orderId: 'o9' }, initialState)).toThrow(/does not exist/);
  });

  it('evolves Pending -> Rejected keeping the order data and the reason', () => {
    expect(evolve(fold([placed]), { type: 'OrderRejected', data: { orderId: 'o1', reason: 'no stock' } })).toEqual({
      status: 'Rejected',
      orderId: 'o1',
      basketId: 'b1',
      customerId: 'b1',
      items: placed.data.items,
      total: 600,
      reason: 'no stock',
    });
  });
});
