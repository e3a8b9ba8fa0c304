// The order read model as the API answers with it. Declared apart from store.ts, which fills it, so that
// the API's contract and the store share one declaration.
import { z } from 'zod';
import { OrderLine } from '@qtshop/shared/events';

/**
 * An order as the projection holds it. Fields that come from OrderPlaced are null while only the order's
 * outcome has arrived (events of different aggregates are not ordered with each other).
 */
export const OrderSummary = z.object({
  orderId: z.string(),
  basketId: z.string().nullable(),
  customerId: z
    .string()
    .nullable()
    .describe('The customer who placed it (null before OrderPlaced arrived, or for orders placed before shoppers had identities)'),
  status: z.enum(['Pending', 'Confirmed', 'Rejected', 'Cancelled']),
  total: z.number().int().min(0).nullable().describe('Sum of price × quantity, minor units'),
  items: z.array(OrderLine).nullable(),
  reason: z.string().nullable().describe('Why the order was rejected or cancelled'),
  placedAt: z.iso.datetime().nullable(),
  updatedAt: z.iso.datetime(),
});
export type OrderSummary = z.infer<typeof OrderSummary>;
