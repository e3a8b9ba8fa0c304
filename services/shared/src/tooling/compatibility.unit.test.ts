import { z } from 'zod';
import { EVENTS } from '../events/registry';
import { breakingChanges, eventCompatibility } from './compatibility';
import { eventSchema, type JsonSchema } from './event-contracts';

const released = eventSchema('OrderPlaced');
const copy = (): JsonSchema => structuredClone(released);
const schemaOf = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input' }) as JsonSchema;

describe('breakingChanges', () => {
  it('finds nothing between an event schema and itself', () => {
    expect(breakingChanges(released, copy())).toEqual([]);
  });

  it('names a required field that was renamed', () => {
    const renamed = schemaOf(EVENTS.OrderPlaced.schema.omit({ basketId: true }).extend({ cartId: z.string() }));
    const problems = breakingChanges(released, renamed);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('field "basketId" is required in the released schema and is gone'),
        expect.stringContaining('new field "cartId" is required'),
      ]),
    );
  });

  it('passes a new optional field', () => {
    expect(breakingChanges(released, schemaOf(EVENTS.OrderPlaced.schema.extend({ currency: z.string().optional() })))).toEqual([]);
  });

  it('passes a new required field that has a default', () => {
    expect(breakingChanges(released, schemaOf(EVENTS.OrderPlaced.schema.extend({ currency: z.string().default('EUR') })))).toEqual([]);
  });

  it('passes a change of description only', () => {
    expect(breakingChanges(released, { ...copy(), description: 'reworded' })).toEqual([]);
  });

  it('names a nested field whose bound narrowed', () => {
    const narrowed = copy();
    const line = (narrowed.properties as Record<string, JsonSchema>).items!.items as JsonSchema;
    (line.properties as Record<string, JsonSchema>).quantity!.minimum = 2;
    expect(breakingChanges(released, narrowed)).toEqual([expect.stringMatching(/^field "items\[\]\.quantity" was narrowed \(minimum 1 → 2\)/)]);
  });

  it('names a field whose type narrowed or widened', () => {
    const narrowed = schemaOf(EVENTS.OrderConfirmed.schema.extend({ reason: z.enum(['out_of_stock']).optional() }));
    expect(breakingChanges(eventSchema('OrderConfirmed'), narrowed)).toEqual([expect.stringMatching(/^field "reason" was narrowed \(enum/)]);
    const widened = schemaOf(EVENTS.OrderPlaced.schema.extend({ total: z.number() }));
    expect(breakingChanges(released, widened)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^field "total" was widened \(type "integer" → "number"\)/),
        expect.stringMatching(/^field "total" was widened \(minimum/),
      ]),
    );
  });

  it('names a required field that became optional, and an optional one that became required', () => {
    const current = schemaOf(EVENTS.OrderConfirmed.schema.extend({ orderId: z.string().min(1).max(200).optional(), reason: z.string() }));
    expect(breakingChanges(eventSchema('OrderConfirmed'), current)).toEqual([
      expect.stringContaining('field "orderId" was required and is now optional'),
      expect.stringContaining('field "reason" was optional and is now required without a default'),
    ]);
  });

  it('refuses a new field when the released schema refused unknown fields', () => {
    const strict = { ...copy(), additionalProperties: false };
    expect(breakingChanges(strict, { ...schemaOf(EVENTS.OrderPlaced.schema.extend({ note: z.string().optional() })), additionalProperties: false })).toEqual([
      expect.stringContaining('new field "note": the released schema refuses fields it does not name'),
    ]);
  });
});

describe('eventCompatibility', () => {
  it('prefixes each problem with the event type and names an event type that is gone', () => {
    const current = { OrderPlaced: schemaOf(EVENTS.OrderPlaced.schema.omit({ total: true })) };
    expect(eventCompatibility({ OrderPlaced: released, OrderConfirmed: eventSchema('OrderConfirmed') }, current)).toEqual([
      expect.stringMatching(/^OrderPlaced: field "total" is required in the released schema and is gone/),
      expect.stringMatching(/^OrderConfirmed: the event type is gone/),
    ]);
  });

  it('passes a new event type', () => {
    expect(eventCompatibility({ OrderPlaced: released }, { OrderPlaced: copy(), OrderCancelled: eventSchema('OrderRejected') })).toEqual([]);
  });
});
