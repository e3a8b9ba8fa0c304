// Order query consumes the order stream's events into its read model.
import type { Knex } from '@qtshop/shared/infra';
import type { Handlers } from '@qtshop/shared/messaging';
import { projectOutcome, projectPlaced } from './domain/projection';

export const ORDER_QUERY_TOPICS = ['qtshop.order'];

export function orderQueryHandlers(): Handlers<Knex.Transaction> {
  return {
    OrderPlaced: (event, trx) => projectPlaced(trx, event.payload),
    OrderConfirmed: (event, trx) => projectOutcome(trx, event.payload, 'Confirmed'),
    OrderRejected: (event, trx) => projectOutcome(trx, event.payload, 'Rejected'),
    OrderCancelled: (event, trx) => projectOutcome(trx, event.payload, 'Cancelled'),
  };
}
