// Order command consumes the stock outcome (confirm or reject the order) and the catalog's prices.
import { Unprocessable, type Handlers, type Knex } from '@qtshop/shared';
import { OrderRuleViolation, type OrderCommand } from './domain/order';
import { execute } from './domain/orders';
import * as store from './store';

export const ORDER_COMMAND_TOPICS = ['qtshop.inventory', 'qtshop.product'];

/** Applies a stock outcome; an outcome for an order this service never placed cannot be applied. */
async function applyOutcome(trx: Knex.Transaction, command: OrderCommand, traceparent?: string): Promise<void> {
  try {
    await execute(trx, command, traceparent);
  } catch (err) {
    if (err instanceof OrderRuleViolation && err.code === 'order_unknown') throw new Unprocessable(err.message);
    throw err;
  }
}

export function orderCommandHandlers(): Handlers<Knex.Transaction> {
  return {
    OrderStockReserved: (event, trx) => applyOutcome(trx, { type: 'ConfirmOrder', orderId: event.payload.orderId }, event.traceparent),
    OrderStockRejected: (event, trx) => {
      const reason = event.payload.reason;
      return applyOutcome(trx, { type: 'RejectOrder', orderId: event.payload.orderId, ...(reason ? { reason } : {}) }, event.traceparent);
    },
    ProductCreated: (event, trx) => store.upsertPrice(trx, event.payload.productId, event.payload.price),
    ProductUpdated: (event, trx) => store.upsertPrice(trx, event.payload.productId, event.payload.price),
  };
}
