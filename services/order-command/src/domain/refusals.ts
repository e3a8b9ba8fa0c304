// Why order-command refuses a request, in the domain's words. The HTTP edge (http-errors.ts) gives each
// refusal its status and code; the Kafka handlers, which reach the same use cases, never see HTTP.
export type RefusalCode = 'unknown_product' | 'price_changed' | 'idempotency_key_reused' | 'idempotency_key_in_use';

export class OrderRefused extends Error {
  override name = 'OrderRefused';
  constructor(
    readonly code: RefusalCode,
    message: string,
  ) {
    super(message);
  }
}
