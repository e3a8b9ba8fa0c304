// The order as an event-sourced aggregate: pure decide(command, state) -> events and
// evolve(state, event) -> state (emmett style). No I/O, no clock, no ids: they come in the command.
import type { EventPayload } from '@qtshop/shared/events';

/**
 * An event's data as the stream stores it: the published payload without `version`, which is the event's
 * position in the stream (order_events.version) and is added when the event is written to the outbox.
 */
type Data<T extends 'OrderPlaced' | 'OrderConfirmed' | 'OrderRejected' | 'OrderCancelled'> = Omit<EventPayload<T>, 'version'>;

export type OrderEvent =
  | { type: 'OrderPlaced'; data: Data<'OrderPlaced'> }
  | { type: 'OrderConfirmed'; data: Data<'OrderConfirmed'> }
  | { type: 'OrderRejected'; data: Data<'OrderRejected'> }
  | { type: 'OrderCancelled'; data: Data<'OrderCancelled'> };

export type OrderStatus = 'Pending' | 'Confirmed' | 'Rejected' | 'Cancelled';

export type OrderState =
  | { status: 'None' }
  | {
      status: OrderStatus;
      orderId: string;
      basketId: string;
      /** Absent for orders placed before shoppers had identities: only the admin sees those. */
      customerId?: string;
      items: EventPayload<'OrderPlaced'>['items'];
      total: number;
      reason?: string;
    };

export type OrderCommand =
  | {
      type: 'PlaceOrder';
      orderId: string;
      basketId: string;
      customerId: string;
      items: EventPayload<'OrderPlaced'>['items'];
      /** The basket revision the client placed the order from, passed on in OrderPlaced (the basket takes out only what it held then). */
      basketRevision?: number;
    }
  | { type: 'ConfirmOrder'; orderId: string }
  | { type: 'RejectOrder'; orderId: string; reason?: string }
  | { type: 'CancelOrder'; orderId: string; reason?: string };

export class OrderRuleViolation extends Error {
  constructor(
    readonly code: 'order_exists' | 'order_unknown' | 'empty_order' | 'order_not_cancellable',
    message: string,
  ) {
    super(message);
  }
}

export const initialState: OrderState = { status: 'None' };

const never = (x: never): never => {
  throw new Error(`unhandled: ${JSON.stringify(x)}`);
};

export function decide(command: OrderCommand, state: OrderState): OrderEvent[] {
  switch (command.type) {
    case 'PlaceOrder': {
      if (state.status !== 'None') throw new OrderRuleViolation('order_exists', `order ${command.orderId} already exists`);
      if (command.items.length === 0) throw new OrderRuleViolation('empty_order', 'an order needs at least one line');
      const total = command.items.reduce((sum, l) => sum + l.price * l.quantity, 0);
      const { orderId, basketId, customerId, items, basketRevision } = command;
      return [{ type: 'OrderPlaced', data: { orderId, basketId, customerId, items, total, ...(basketRevision === undefined ? {} : { basketRevision }) } }];
    }
    case 'ConfirmOrder':
    case 'RejectOrder': {
      if (state.status === 'None') throw new OrderRuleViolation('order_unknown', `order ${command.orderId} does not exist`);
      // The stock outcome arrives once per order; a repeated or late outcome for a decided order changes nothing.
      if (state.status !== 'Pending') return [];
      return command.type === 'ConfirmOrder'
        ? [{ type: 'OrderConfirmed', data: { orderId: command.orderId } }]
        : [{ type: 'OrderRejected', data: { orderId: command.orderId, ...(command.reason ? { reason: command.reason } : {}) } }];
    }
    case 'CancelOrder': {
      if (state.status === 'None') throw new OrderRuleViolation('order_unknown', `order ${command.orderId} does not exist`);
      // Cancelling twice is the same as once; a rejected order has nothing to give back.
      if (state.status === 'Cancelled') return [];
      if (state.status === 'Rejected')
        throw new OrderRuleViolation('order_not_cancellable', `order ${command.orderId} was rejected; there is nothing to cancel`);
      return [{ type: 'OrderCancelled', data: { orderId: command.orderId, ...(command.reason ? { reason: command.reason } : {}) } }];
    }
    default:
      return never(command);
  }
}

export function evolve(state: OrderState, event: OrderEvent): OrderState {
  switch (event.type) {
    case 'OrderPlaced':
      return {
        status: 'Pending',
        orderId: event.data.orderId,
        basketId: event.data.basketId,
        ...(event.data.customerId ? { customerId: event.data.customerId } : {}),
        items: event.data.items,
        total: event.data.total,
      };
    case 'OrderConfirmed':
      return state.status === 'None' ? state : { ...state, status: 'Confirmed' };
    case 'OrderRejected':
      return state.status === 'None' ? state : { ...state, status: 'Rejected', ...(event.data.reason ? { reason: event.data.reason } : {}) };
    case 'OrderCancelled':
      return state.status === 'None' ? state : { ...state, status: 'Cancelled', ...(event.data.reason ? { reason: event.data.reason } : {}) };
    default:
      return never(event);
  }
}

export const fold = (events: OrderEvent[]): OrderState => events.reduce(evolve, initialState);
