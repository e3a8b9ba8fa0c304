// The basket HTTP API against the real MongoDB-wire server. The product cache is seeded through the
// service's own store (it is the basket service's data); events are covered in events.int.test.ts.
import { randomUUID } from 'node:crypto';
import { applyProduct, MAX_QUANTITY } from '../../services/basket/src/domain/basket';
import type { CachedProduct } from '../../services/basket/src/model';
import { ensureIndexes } from '../../services/basket/src/store';
import { basketForTest, type BasketForTest } from '../support/basket';
import { asAdmin as http } from '../support/services';

const MAX_LINES = 3;
let svc: BasketForTest;

beforeAll(async () => {
  svc = await basketForTest({ BASKET_MAX_LINES: String(MAX_LINES) });
}, 60_000);
afterAll(async () => {
  await svc?.stop();
});

async function seedProduct(over: Partial<CachedProduct> = {}): Promise<CachedProduct> {
  const p: CachedProduct = {
    productId: randomUUID(),
    name: `Mug ${randomUUID().slice(0, 8)}`,
    description: 'Stoneware',
    type: 'kitchen',
    brand: 'Acme',
    pictureUrl: 'https://img.example/mug.png',
    price: 1250,
    version: 1,
    ...over,
  };
  await applyProduct(svc.db, p);
  return p;
}

const url = (basketId: string) => `${svc.url}/baskets/${basketId}`;
const getBasket = (basketId: string) => http('GET', url(basketId));

describe('PUT /baskets/:basketId', () => {
  it('creates the basket (201) with name and price from the product cache, then replaces its lines (200)', async () => {
    const [mug, pot] = [await seedProduct(), await seedProduct({ name: 'Teapot', price: 3400 })];
    const id = randomUUID();
    const created = await http('PUT', url(id), {
      items: [
        { productId: mug.productId, quantity: 2 },
        { productId: pot.productId, quantity: 1 },
      ],
    });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      basketId: id,
      items: [
        { productId: mug.productId, name: mug.name, price: 1250, quantity: 2 },
        { productId: pot.productId, name: 'Teapot', price: 3400, quantity: 1 },
      ],
      total: 2 * 1250 + 3400,
      revision: 1,
      updatedAt: expect.any(String),
    });
    expect((await getBasket(id)).json).toEqual(created.json);

    const replaced = await http('PUT', url(id), { items: [{ productId: pot.productId, quantity: 3 }] });
    expect(replaced.status).toBe(200);
    expect(replaced.json.items).toEqual([{ productId: pot.productId, name: 'Teapot', price: 3400, quantity: 3 }]);
    expect(replaced.json.total).toBe(3 * 3400);
    expect(replaced.json.revision).toBe(2);
    expect((await getBasket(id)).json).toEqual(replaced.json);
  });

  it('accepts an empty list of lines (an empty basket) and exactly the maximum number of lines', async () => {
    const id = randomUUID();
    const empty = await http('PUT', url(id), { items: [] });
    expect(empty.status).toBe(201);
    expect(empty.json).toMatchObject({ basketId: id, items: [], total: 0 });
    const products = await Promise.all(Array.from({ length: MAX_LINES }, () => seedProduct()));
    const full = await http('PUT', url(id), { items: products.map((p) => ({ productId: p.productId, quantity: 1 })) });
    expect(full.status).toBe(200);
    expect(full.json.items).toHaveLength(MAX_LINES);
  });

  it('accepts ids of letters, digits, _ and - up to 100 characters', async () => {
    const mug = await seedProduct();
    for (const id of ['a', 'Shopper_42-session', 'x'.repeat(100)]) {
      expect((await http('PUT', url(id), { items: [{ productId: mug.productId, quantity: 1 }] })).status).toBe(201);
      expect((await getBasket(id)).status).toBe(200);
      await http('DELETE', url(id));
    }
  });

  describe('bad input: the JSON error names the field and the basket is unchanged', () => {
    let mug: CachedProduct;
    let pot: CachedProduct;
    let id: string;
    let before: unknown;
    beforeAll(async () => {
      [mug, pot] = [await seedProduct(), await seedProduct()];
      id = randomUUID();
      const res = await http('PUT', url(id), { items: [{ productId: mug.productId, quantity: 2 }] });
      expect(res.status).toBe(201);
      before = res.json;
    });
    afterEach(async () => {
      expect((await getBasket(id)).json).toEqual(before);
    });

    const line = (over: Record<string, unknown> = {}) => ({ productId: mug.productId, quantity: 1, ...over });
    const cases: Array<[string, () => unknown, string[]]> = [
      ['a zero quantity', () => ({ items: [line({ quantity: 0 })] }), ['items.0.quantity']],
      ['a negative quantity', () => ({ items: [line({ quantity: -3 })] }), ['items.0.quantity']],
      ['a fractional quantity', () => ({ items: [line({ quantity: 1.5 })] }), ['items.0.quantity']],
      ['a quantity given as a string', () => ({ items: [line({ quantity: '2' })] }), ['items.0.quantity']],
      ['a quantity above the per-line maximum', () => ({ items: [line({ quantity: MAX_QUANTITY + 1 })] }), ['items.0.quantity']],
      ['a missing quantity', () => ({ items: [{ productId: mug.productId }] }), ['items.0.quantity']],
      ['an empty product id', () => ({ items: [line({ productId: '' })] }), ['items.0.productId']],
      ['a client-sent name and price', () => ({ items: [line({ name: 'Free mug', price: 0 })] }), ['items.0.name', 'items.0.price']],
      ['an unknown top-level field', () => ({ items: [line()], owner: 'me' }), ['owner']],
      ['no items field', () => ({}), ['items']],
      ['items that are not a list', () => ({ items: { productId: mug.productId, quantity: 1 } }), ['items']],
      ['two lines for the same product', () => ({ items: [line(), line({ productId: pot.productId }), line({ quantity: 4 })] }), ['items.2.productId']],
      ['more lines than BASKET_MAX_LINES', () => ({ items: Array.from({ length: MAX_LINES + 1 }, () => line({ productId: randomUUID() })) }), ['items']],
      ['a JSON array body', () => [line()], ['body']],
    ];
    it.each(cases)('rejects %s with 400', async (_what, body, fields) => {
      const res = await http('PUT', url(id), body());
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(res.json.error.code).toBe('validation_failed');
      expect(res.json.error.fields.map((f: { path: string }) => f.path)).toEqual(expect.arrayContaining(fields));
    });

    it('names the extra fields as unknown when the client sends name or price', async () => {
      const res = await http('PUT', url(id), { items: [line({ name: 'Free mug', price: 0 })] });
      expect(res.json.error.fields).toEqual(
        expect.arrayContaining([
          { path: 'items.0.name', message: 'unknown field' },
          { path: 'items.0.price', message: 'unknown field' },
        ]),
      );
    });

    it('rejects an unknown product with 404 naming it', async () => {
      const ghost = randomUUID();
      const res = await http('PUT', url(id), { items: [line({ quantity: 5 }), line({ productId: ghost })] });
      expect(res.status).toBe(404);
      expect(res.json.error).toEqual({
        code: 'not_found',
        message: `product ${ghost} not found`,
        fields: [{ path: 'items.1.productId', message: `unknown product ${ghost}` }],
      });
    });

    it('rejects a body that is not JSON with 400 invalid_json', async () => {
      const res = await http('PUT', url(id), '{"items": [');
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('invalid_json');
    });

    it('rejects a non-JSON content type with 415', async () => {
      const res = await fetch(url(id), { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'two mugs' });
      expect(res.status).toBe(415);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unsupported_media_type');
    });

    it('rejects a body over the size limit with 413', async () => {
      const res = await http('PUT', url(id), { items: [line({ productId: 'p'.repeat(70 * 1024) })] });
      expect(res.status).toBe(413);
      expect(res.json.error.code).toBe('payload_too_large');
    });
  });

  it.each([
    ['longer than 100 characters', 'x'.repeat(101)],
    ['with a dot', 'a.b'],
    ['with a space', 'a%20b'],
    ['with a non-ASCII letter', 'k%C3%B6rb'],
  ])('rejects a basket id %s with 400 on PUT, GET and DELETE, creating nothing', async (_what, bad) => {
    const mug = await seedProduct();
    for (const [method, body] of [
      ['PUT', { items: [{ productId: mug.productId, quantity: 1 }] }],
      ['GET', undefined],
      ['DELETE', undefined],
    ] as const) {
      const res = await http(method, url(bad), body);
      expect(res.status).toBe(400);
      expect(res.json.error.fields[0].path).toBe('basketId');
    }
    expect(await svc.db.collection('baskets').countDocuments({ 'items.productId': mug.productId })).toBe(0);
  });
});

describe('GET /baskets/:basketId', () => {
  it('answers 404 JSON for a basket that does not exist', async () => {
    const id = randomUUID();
    const res = await getBasket(id);
    expect(res.status).toBe(404);
    expect(res.json.error).toEqual({ code: 'not_found', message: `basket ${id} not found` });
  });
});

describe('DELETE /baskets/:basketId', () => {
  it('deletes the basket (204), and deleting it again is also 204', async () => {
    const mug = await seedProduct();
    const id = randomUUID();
    await http('PUT', url(id), { items: [{ productId: mug.productId, quantity: 1 }] });
    const first = await http('DELETE', url(id));
    expect(first.status).toBe(204);
    expect(first.text).toBe('');
    expect((await getBasket(id)).status).toBe(404);
    expect((await http('DELETE', url(id))).status).toBe(204);
  });

  it('keeps the basket revision: filled again, the basket is created (201) at the revision after it, never 1 again', async () => {
    const mug = await seedProduct();
    const id = randomUUID();
    expect((await http('PUT', url(id), { items: [{ productId: mug.productId, quantity: 1 }] })).json.revision).toBe(1);
    await http('DELETE', url(id)); // revision 2, deleted
    await http('DELETE', url(id)); // already deleted: nothing moves
    const again = await http('PUT', url(id), { items: [{ productId: mug.productId, quantity: 1 }] });
    expect(again.status).toBe(201);
    expect(again.json.revision).toBe(3);
  });
});

describe('operational endpoints', () => {
  it('answers /health, and /ready with the database, Kafka and consumers checks', async () => {
    expect((await http('GET', `${svc.url}/health`)).json).toEqual({ status: 'ok', service: 'basket' });
    expect((await http('GET', `${svc.url}/ready`)).json).toEqual({
      status: 'ready',
      service: 'basket',
      checks: { database: 'ok', kafka: 'ok', consumers: 'ok' },
    });
  });

  it('creates its index on items.productId at start, and creating it again (the next start) is a no-op', async () => {
    await ensureIndexes(svc.db);
    const names = (await svc.db.collection('baskets').indexes()).map((i) => i.name);
    expect(names.filter((n) => n === 'items_productId')).toHaveLength(1);
  });
});
