// Inventory's answer to OrderCancelled and OrderRejected: give back what was reserved for the order, once.
// The stock decision (stock_decisions, keyed by order id) is the aggregate: version 1 is the reservation or
// refusal, version 2 its release. An order cancelled or rejected before inventory decided (its OrderPlaced
// dead-lettered, held up, or still to come) gets a void decision at version 2, so that the OrderPlaced, when
// it comes, finds the order decided and reserves nothing. Applied at most once per order whatever the
// number of deliveries: the release locks the decision's row and changes it to version 2.
import type { Knex } from '@qtshop/shared/infra';
import { stale, type Stale } from '@qtshop/shared/events';
import type { OutboxWriter } from '@qtshop/shared/outbox';
import * as store from '../store';

export const RELEASE_VERSION = 2;

/** A stock decision as it stands: its version, its outcome, and what it reserved of each product. */
export interface HeldDecision {
  version: number;
  outcome: 'reserved' | 'rejected' | 'void' | null;
  reserved: Array<{ productId: string; quantity: number }> | null;
}

export type Release =
  /** No decision yet: record a void one, so a later OrderPlaced reserves nothing. */
  | { action: 'void' }
  /** Give back `lines` and mark the decision released. */
  | { action: 'release'; lines: Array<{ productId: string; quantity: number }> }
  /** Nothing was reserved (refused, or decided before outcomes were kept): mark the decision released. */
  | { action: 'close' };

/** What to do for the end of an order, given its stock decision (undefined: none yet). Pure; unit-tested. */
export function decideRelease(held: HeldDecision | undefined): Release | Stale {
  if (!held) return { action: 'void' };
  if (held.version >= RELEASE_VERSION) return stale(held.version, RELEASE_VERSION);
  if (held.outcome === 'reserved' && held.reserved?.length) return { action: 'release', lines: held.reserved };
  return { action: 'close' };
}

/** The end of an order (cancelled, or rejected by order-command): its reservation, if any, given back once. */
export async function releaseStock(trx: Knex.Transaction, outbox: OutboxWriter, orderId: string): Promise<Release | Stale> {
  const decision = decideRelease(await store.lockDecision(trx, orderId));
  if ('outcome' in decision) return decision;
  if (decision.action === 'void') {
    // A concurrent decision of the same order waits on the key; if it won, this one is stale and is retried
    // by the consumer (the insert found the row): the next attempt locks it and releases what it reserved.
    if (!(await store.recordVoidDecision(trx, orderId, RELEASE_VERSION))) throw new Error(`stock decision of order ${orderId} taken meanwhile; retrying`);
    return decision;
  }
  if (decision.action === 'release') {
    const stock = await store.lockStock(
      trx,
      decision.lines.map((l) => l.productId),
    );
    for (const { productId, quantity } of decision.lines) {
      const changed = await store.setQuantity(trx, productId, (stock.get(productId) ?? 0) + quantity);
      if (!changed) continue; // the product's stock row is gone: nothing to give back to
      await outbox.append(trx, {
        type: 'ProductQuantityUpdated',
        aggregateId: productId,
        payload: { productId, quantity: changed.item.quantity, version: changed.version },
      });
    }
  }
  await store.markReleased(trx, orderId, RELEASE_VERSION);
  return decision;
}
