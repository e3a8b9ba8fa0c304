// The committed contracts are what the code generates, and the current event schemas can stand in for
// the released ones (docs/concepts.md "Contracts").
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { Validator } from '@seriousme/openapi-schema-validator';
import { EVENTS, isEventType } from '@qtshop/shared/events';
import { EVENT_TYPES, eventCompatibility } from '@qtshop/shared/tooling';
import { CONTRACTS_DIR, currentEventSchemas, generatedContracts, HTTP_ROUTES, releasedEventSchemas, staleContracts } from '../../scripts/contracts';
import { describeErrors, newAjv, readContract } from '../support/contracts';

describe('the committed contracts', () => {
  it('are what the code generates (run npm run contracts -- --write after changing an event, a route or a schema)', () => {
    expect(staleContracts()).toEqual([]);
  });

  it('are found stale when a file differs, is missing, or is no longer generated', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qtshop-contracts-'));
    try {
      cpSync(CONTRACTS_DIR, dir, { recursive: true });
      writeFileSync(join(dir, 'events/OrderPlaced.json'), '{}\n');
      rmSync(join(dir, 'events/asyncapi.json'));
      writeFileSync(join(dir, 'events/OrderShipped.json'), '{}\n');
      expect(staleContracts(dir)).toEqual(['events/OrderPlaced.json', 'events/OrderShipped.json', 'events/asyncapi.json']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the event schemas', () => {
  it('break no consumer of the released ones (a deliberate change is a new event type or topic; docs/concepts.md "Contracts")', () => {
    const released = releasedEventSchemas();
    expect(Object.keys(released).filter((t) => !isEventType(t))).toEqual([]);
    expect(Object.keys(released).length).toBeGreaterThan(0);
    expect(eventCompatibility(released, currentEventSchemas())).toEqual([]);
  });

  it.each(EVENT_TYPES)('%s requires its key field and validates what its zod schema accepts', (type) => {
    const schema = readContract(`events/${type}.json`);
    expect(schema.required).toContain(EVENTS[type].key);
    const validate = newAjv().compile(schema);
    const sample = {
      productId: 'p-1',
      orderId: 'o-1',
      basketId: 'b-1',
      name: 'Lamp',
      description: '',
      type: 'home',
      brand: 'Lumo',
      pictureUrl: '',
      price: 4900,
      quantity: 2,
      items: [{ productId: 'p-1', price: 4900, quantity: 2 }],
      total: 9800,
      version: 1,
    };
    const payload = EVENTS[type].schema.parse(sample);
    expect(describeErrors(validate(payload) ? [] : validate.errors)).toBe('');
    expect(validate({ ...payload, version: 0 })).toBe(false);
    expect(validate({ ...payload, [EVENTS[type].key]: undefined })).toBe(false);
  });
});

describe('the AsyncAPI document', () => {
  const doc = generatedContracts()['events/asyncapi.json']!;

  it('is a valid AsyncAPI 3.0 document', async () => {
    const { default: specs } = (await import('@asyncapi/specs')) as unknown as { default: { schemas: Record<string, object> } };
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, meta: false, validateSchema: false });
    const validate = ajv.compile(specs.schemas['3.0.0']!);
    expect(describeErrors(validate(JSON.parse(doc)) ? [] : validate.errors)).toBe('');
  });

  it('names every topic and every event type', () => {
    const parsed = JSON.parse(doc) as { channels: Record<string, { address: string; messages: object }> };
    expect(Object.values(parsed.channels).map((c) => c.address)).toEqual(['qtshop.product', 'qtshop.inventory', 'qtshop.order']);
    expect(Object.values(parsed.channels).flatMap((c) => Object.keys(c.messages))).toEqual(expect.arrayContaining(EVENT_TYPES));
  });
});

describe('the OpenAPI documents', () => {
  it.each(Object.keys(HTTP_ROUTES))('of %s is a valid OpenAPI 3.1 document', async (service) => {
    const result = await new Validator().validate(readContract(`http/${service}.json`));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('describes an admin route with bearer security and the 400, 401, 413 and 415 answered with the error body', () => {
    const put = (readContract('http/catalog.json').paths as Record<string, Record<string, { security: unknown; responses: Record<string, unknown> }>>)['/products/{id}']!.put!;
    expect(put.security).toEqual([{ adminToken: [] }]);
    for (const status of ['400', '401', '404', '413', '415']) {
      expect(put.responses[status]).toMatchObject({ content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
    }
  });
});
