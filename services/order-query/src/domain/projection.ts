// The order read model, projected from OrderPlaced, OrderConfirmed, OrderRejected and OrderCancelled, in any arrival
// order. Each event carries its version in the order's stream; the row keeps the version its status came
// from, and the status moves only forward: an event not newer than the row is stale. One exception keeps
// out-of-order arrival whole: an outcome that arrives before OrderPlaced creates the row with what it
// knows, and OrderPlaced arriving later (older, yet carrying the order's lines) fills those in without
// undoing the outcome. Redelivery of the same event id is handled by the inbox (processed_events) in the
// same transaction.
import type { Knex } from '@qtshop/shared/infra';
import { byVersion, isNewer, stale, type EventPayload, type Stale } from '@qtshop/shared/events';
import type { HandlerResult } from '@qtshop/shared/messaging';
import * as store from '../store';
import type { HeldOrder } from '../store';

/**
 * The rule for OrderPlaced. create: no row yet; apply: newer, so data, status Pending and version; fill:
 * not newer but the order's data is missing (an outcome came first), so the data only. Pure; unit-tested.
 */
export function placedUpdate(held: HeldOrder | undefined, event: Pick<EventPayload<'OrderPlaced'>, 'version'>): 'create' | 'apply' | 'fill' | Stale {
  if (!held) return 'create';
  if (isNewer(event.version, held.version)) return 'apply';
  return held.placed ? stale(held.version, event.version) : 'fill';
}

/** The rule for OrderConfirmed / OrderRejected: the status moves only forward by version. Pure; unit-tested. */
export function outcomeUpdate(held: HeldOrder | undefined, event: Pick<EventPayload<'OrderConfirmed'>, 'version'>): 'create' | 'apply' | Stale {
  return byVersion(held?.version, event.version, { absent: 'create', newer: 'apply' } as const);
}

// The common cases take one statement: OrderPlaced inserts a row that is not there yet, an outcome updates
// an older row. Otherwise the row is locked and the rules above decide (a concurrent insert of the same
// order, by a consumer finishing late after a rebalance, is waited for by the insert and then found).
export async function projectPlaced(trx: Knex.Transaction, e: EventPayload<'OrderPlaced'>): Promise<HandlerResult> {
  if (await store.insertPlacedIfAbsent(trx, e)) return;
  const decision = placedUpdate(await store.lockOrder(trx, e.orderId), e);
  if (typeof decision !== 'string') return decision;
  if (decision === 'create') await store.insertPlaced(trx, e);
  else await store.updatePlaced(trx, e, decision === 'apply' ? 'with-status' : 'data-only');
}

export async function projectOutcome(
  trx: Knex.Transaction,
  e: EventPayload<'OrderConfirmed'>,
  status: 'Confirmed' | 'Rejected' | 'Cancelled',
): Promise<HandlerResult> {
  const outcome = { orderId: e.orderId, status, reason: e.reason, version: e.version };
  if (await store.updateOutcomeIfNewer(trx, outcome)) return;
  const decision = outcomeUpdate(await store.lockOrder(trx, e.orderId), e);
  if (typeof decision !== 'string') return decision;
  if (decision === 'create') await store.insertOutcome(trx, outcome);
  else await store.updateOutcome(trx, outcome);
}
