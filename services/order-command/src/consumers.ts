// Order command consumes the stock outcome (confirm or reject the order) and the catalog's prices.
import type { Knex } from '@qtshop/shared/infra';
import { stale } from '@qtshop/shared/events';
import { Unprocessable, type ConsumedEvent, type HandlerResult, type Handlers } from '@qtshop/shared/messaging';
import type { OutboxWriter } from '@qtshop/shared/outbox';
import { OrderRuleViolation, type OrderCommand } from './domain/aggregate';
import { execute } from './domain/use-cases';
import { cachePrice } from './domain/prices';

export const ORDER_COMMAND_TOPICS = ['qtshop.inventory', 'qtshop.product'];

/**
 * Applies a stock outcome; an outcome for an order this service never placed cannot be applied. The
 * order's stream is the state here: once it holds a stock decision (Confirmed or Rejected, decision
 * version 1), decide() appends nothing for another one, which is reported as stale.
 */
async function applyOutcome(
  trx: Knex.Transaction,
  outbox: OutboxWriter,
  command: OrderCommand,
  event: ConsumedEvent<'OrderStockReserved' | 'OrderStockRejected'>,
): Promise<HandlerResult> {
  try {
    const { appended } = await execute(trx, outbox, command);
    if (appended.length === 0) return stale(1, event.payload.version);
  } catch (err) {
    if (err instanceof OrderRuleViolation && err.code === 'order_unknown') throw new Unprocessable(err.message);
    throw err;
  }
}

export function orderCommandHandlers(outbox: OutboxWriter): Handlers<Knex.Transaction> {
  return {
    OrderStockReserved: (event, trx) => applyOutcome(trx, outbox, { type: 'ConfirmOrder', orderId: event.payload.orderId }, event),
    OrderStockRejected: (event, trx) => {
      const reason = event.payload.reason;
      return applyOutcome(trx, outbox, { type: 'RejectOrder', orderId: event.payload.orderId, ...(reason ? { reason } : {}) }, event);
    },
    ProductCreated: (event, trx) => cachePrice(trx, event.payload),
    ProductUpdated: (event, trx) => cachePrice(trx, event.payload),
  };
}
