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

  it('given no events, when PlaceOrder with the basket revision it was placed from, then OrderPlaced carries it; without one, it has none', () => {
    const command = { type: 'PlaceOrder' as const, orderId: 'o1', basketId: 'b1', customerId: 'b1', items: placed.data.items };
    expect(decide({ ...command, basketRevision: 4 }, initialState)).toEqual([{ ...placed, data: { ...placed.data, basketRevision: 4 } }]);
    expect(decide(command, initialState)[0]!.data).not.toHaveProperty('basketRevision');
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

  describe('cancelling', () => {
    const cancel = { type: 'CancelOrder', orderId: 'o1', reason: 'cancelled_by_customer' } as const;
    const cancelled: OrderEvent = { type: 'OrderCancelled', data: { orderId: 'o1', reason: 'cancelled_by_customer' } };
    const confirmedEvent: OrderEvent = { type: 'OrderConfirmed', data: { orderId: 'o1' } };

    it("given a Pending order, when CancelOrder, then OrderCancelled (the stream's second event)", () => {
      expect(decide(cancel, fold([placed]))).toEqual([cancelled]);
    });

    it('given a Confirmed order, when CancelOrder, then OrderCancelled and the order is Cancelled with the reason', () => {
      expect(decide(cancel, fold([placed, confirmedEvent]))).toEqual([cancelled]);
      expect(fold([placed, confirmedEvent, cancelled])).toMatchObject({ status: 'Cancelled', reason: 'cancelled_by_customer', items: placed.data.items });
    });

    it('given a Cancelled order, when CancelOrder again, then nothing is appended', () => {
      expect(decide(cancel, fold([placed, cancelled]))).toEqual([]);
    });

    it('given a Rejected order, when CancelOrder, then it is refused as not cancellable', () => {
      const rejected = fold([placed, { type: 'OrderRejected', data: { orderId: 'o1', reason: 'no stock' } }]);
      expect(() => decide(cancel, rejected)).toThrow(expect.objectContaining({ code: 'order_not_cancellable' }));
    });

    it('given no events, when CancelOrder, then it is refused as unknown', () => {
      expect(() => decide(cancel, initialState)).toThrow(expect.objectContaining({ code: 'order_unknown' }));
    });

    it('given an order cancelled while Pending, when its stock outcome arrives late, then nothing is appended', () => {
      const pendingCancelled = fold([placed, cancelled]);
      expect(decide({ type: 'ConfirmOrder', orderId: 'o1' }, pendingCancelled)).toEqual([]);
      expect(decide({ type: 'RejectOrder', orderId: 'o1', reason: 'decision_timeout' }, pendingCancelled)).toEqual([]);
    });
  });
});
