import { randomUUID } from 'node:crypto';
import { createDb, loadInfra } from '@qtshop/shared/infra';
import { ADMIN, catalogForTest, http } from '../support/services';

const db = createDb(loadInfra(), 'catalog');
let svc: Awaited<ReturnType<typeof catalogForTest>>;

beforeAll(async () => {
  svc = await catalogForTest();
});
afterAll(async () => {
  await svc.stop();
  await db.destroy();
});

const product = (over: Record<string, unknown> = {}) => ({
  name: `Kettle ${randomUUID()}`,
  description: 'Stainless steel, 1.7 l',
  type: 'kitchen',
  brand: 'Acme',
  pictureUrl: 'https://img.example/kettle.png',
  price: 2599,
  ...over,
});

async function counts() {
  const [p, o] = await Promise.all([db('products').count<{ c: string }[]>({ c: '*' }), db('outbox').count<{ c: string }[]>({ c: '*' })]);
  return { products: Number(p[0]!.c), outbox: Number(o[0]!.c) };
}

describe('POST /products', () => {
  it('creates the product and a ProductCreated outbox row in one transaction', async () => {
    const body = product();
    const res = await http('POST', `${svc.url}/products`, body, ADMIN);
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ ...body, quantity: 0 });
    expect(res.headers.get('location')).toBe(`/products/${res.json.id}`);
    const rows = await db('outbox').where({ aggregateid: res.json.id });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      aggregatetype: 'product',
      type: 'ProductCreated',
      sent_at: null,
      payload: { productId: res.json.id, ...body, version: 1 },
    });
    expect(rows[0].traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  // With OTEL_EXPORTER_OTLP_ENDPOINT set, the event continues the caller's trace: test/tracing/otlp-export.int.test.ts.
  it("gives the event a trace of its own while tracing is off (the default), whatever the caller's traceparent", async () => {
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await http('POST', `${svc.url}/products`, product(), { ...ADMIN, traceparent: `00-${trace}-00f067aa0ba902b7-01` });
    const row = await db('outbox').where({ aggregateid: res.json.id }).first();
    expect(row.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(row.traceparent).not.toContain(trace);
  });

  const bad: Array<[string, unknown, number, string | RegExp]> = [
    [
      'a missing field',
      (() => {
        const { brand: _b, ...rest } = product();
        return rest;
      })(),
      400,
      'brand',
    ],
    ['a wrong-typed field', product({ price: '25.99' }), 400, 'price'],
    ['a negative price', product({ price: -1 }), 400, 'price'],
    ['a fractional price', product({ price: 25.99 }), 400, 'price'],
    ['an unknown field', product({ colour: 'red' }), 400, 'colour'],
    ['an empty name', product({ name: '   ' }), 400, 'name'],
    ['a JSON array', [product()], 400, 'body'],
  ];
  it.each(bad)('rejects %s with a 400 naming the field, and writes nothing', async (_what, body, status, field) => {
    const before = await counts();
    const res = await http('POST', `${svc.url}/products`, body, ADMIN);
    expect(res.status).toBe(status);
    expect(res.json.error.code).toBe('validation_failed');
    expect(res.json.error.fields.map((f: { path: string }) => f.path)).toContain(field);
    expect(await counts()).toEqual(before);
  });

  it('rejects a body that is not JSON with 400, and writes nothing', async () => {
    const before = await counts();
    const res = await http('POST', `${svc.url}/products`, '{"name": "Kettle",', ADMIN);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('invalid_json');
    expect(await counts()).toEqual(before);
  });

  it('rejects a non-JSON content type with 415, and writes nothing', async () => {
    const before = await counts();
    const res = await fetch(`${svc.url}/products`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'text/plain' }, body: 'Kettle' });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unsupported_media_type');
    expect(await counts()).toEqual(before);
  });

  it('rejects a body over the size limit with 413, and writes nothing', async () => {
    const before = await counts();
    const res = await http('POST', `${svc.url}/products`, product({ description: 'x'.repeat(70 * 1024) }), ADMIN);
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe('payload_too_large');
    expect(await counts()).toEqual(before);
  });

  it.each([
    ['no token', {}],
    ['a wrong token', { authorization: 'Bearer nope' }],
    ['another scheme', { authorization: 'Basic ZGV2OmRldg==' }],
  ])('answers 401 with %s, and writes nothing', async (_what, headers) => {
    const before = await counts();
    const res = await http('POST', `${svc.url}/products`, product(), headers as Record<string, string>);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(res.json.error.code).toBe('unauthorized');
    expect(await counts()).toEqual(before);
  });
});

describe('PUT /products/:id', () => {
  it('updates the product and writes a ProductUpdated outbox row carrying the next version', async () => {
    const created = await http('POST', `${svc.url}/products`, product(), ADMIN);
    const changed = product({ name: 'Kettle Pro', price: 3199 });
    const res = await http('PUT', `${svc.url}/products/${created.json.id}`, changed, ADMIN);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: created.json.id, ...changed });
    await http('PUT', `${svc.url}/products/${created.json.id}`, { ...changed, price: 3299 }, ADMIN);
    const rows = await db('outbox').where({ aggregateid: created.json.id }).orderBy('position');
    expect(rows.map((r) => [r.type, r.payload.version])).toEqual([
      ['ProductCreated', 1],
      ['ProductUpdated', 2],
      ['ProductUpdated', 3],
    ]);
  });

  it('answers 404 for an unknown product, and writes nothing', async () => {
    const before = await counts();
    const res = await http('PUT', `${svc.url}/products/${randomUUID()}`, product(), ADMIN);
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('not_found');
    expect(await counts()).toEqual(before);
  });

  it('rejects invalid input for an existing product with 400, leaving product and outbox unchanged', async () => {
    const created = await http('POST', `${svc.url}/products`, product(), ADMIN);
    const before = await counts();
    const res = await http('PUT', `${svc.url}/products/${created.json.id}`, product({ price: -5 }), ADMIN);
    expect(res.status).toBe(400);
    expect(await counts()).toEqual(before);
    expect((await http('GET', `${svc.url}/products/${created.json.id}`)).json.price).toBe(2599);
  });

  it('answers 401 without the token, leaving the product unchanged', async () => {
    const created = await http('POST', `${svc.url}/products`, product(), ADMIN);
    const before = await counts();
    const res = await http('PUT', `${svc.url}/products/${created.json.id}`, product({ price: 1 }));
    expect(res.status).toBe(401);
    expect(await counts()).toEqual(before);
    expect((await http('GET', `${svc.url}/products/${created.json.id}`)).json.price).toBe(2599);
  });
});

describe('GET /products', () => {
  it('returns one product by id, 404 for an unknown id and 400 for a malformed one', async () => {
    const created = await http('POST', `${svc.url}/products`, product(), ADMIN);
    expect((await http('GET', `${svc.url}/products/${created.json.id}`)).json).toEqual(created.json);
    expect((await http('GET', `${svc.url}/products/${randomUUID()}`)).status).toBe(404);
    const malformed = await http('GET', `${svc.url}/products/not-a-uuid`);
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.fields[0].path).toBe('id');
  });

  it('pages through the list and rejects a bad page size', async () => {
    const page = await http('GET', `${svc.url}/products?limit=2&offset=0`);
    expect(page.status).toBe(200);
    expect(page.json.items.length).toBeLessThanOrEqual(2);
    expect(page.json.total).toBeGreaterThanOrEqual(page.json.items.length);
    expect((await http('GET', `${svc.url}/products?limit=0`)).status).toBe(400);
    expect((await http('GET', `${svc.url}/products?limit=500`)).status).toBe(400);
  });
});

describe('operational endpoints', () => {
  it('answers /health, /ready with its checks, and /metrics in Prometheus format', async () => {
    expect((await http('GET', `${svc.url}/health`)).json).toEqual({ status: 'ok', service: 'catalog' });
    expect((await http('GET', `${svc.url}/ready`)).json).toEqual({
      status: 'ready',
      service: 'catalog',
      checks: { database: 'ok', kafka: 'ok', consumers: 'ok' },
    });
    const metrics = await http('GET', `${svc.url}/metrics`);
    expect(metrics.text).toContain('http_request_duration_seconds_bucket');
  });
});
