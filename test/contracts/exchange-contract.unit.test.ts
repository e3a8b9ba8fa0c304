// The check the end-to-end suite runs on every walkthrough request: it passes exchanges the document
// describes and names what is wrong with one it does not.
import { randomUUID } from 'node:crypto';
import { exchangeProblems, type Exchange } from '../support/contracts';

const id = randomUUID();
const product = {
  id,
  name: 'Lamp',
  description: 'Brass',
  type: 'home',
  brand: 'Lumo',
  pictureUrl: '',
  price: 4900,
  quantity: 0,
  createdAt: '2026-11-25T08:59:40.501Z',
  updatedAt: '2026-11-25T08:59:40.501Z',
};
const get = (over: Partial<Exchange> = {}): Exchange => ({
  method: 'GET',
  path: `/products/${id}`,
  query: {},
  headers: {},
  status: 200,
  contentType: 'application/json; charset=utf-8',
  responseBody: JSON.stringify(product),
  ...over,
});
const error = (code: string) => JSON.stringify({ error: { code, message: code } });

describe('exchangeProblems', () => {
  it('passes a documented request and response, and a paged list whose query arrives as text', () => {
    expect(exchangeProblems('catalog', get())).toEqual([]);
    const list = { items: [product], total: 1, limit: 1, offset: 0 };
    expect(exchangeProblems('catalog', get({ path: '/products', query: { limit: '1' }, responseBody: JSON.stringify(list) }))).toEqual([]);
  });

  it('names a response field that is missing or not documented', () => {
    const { price: _price, ...noPrice } = product;
    expect(exchangeProblems('catalog', get({ responseBody: JSON.stringify(noPrice) }))).toEqual([expect.stringMatching(/response body: .*price/)]);
    expect(exchangeProblems('catalog', get({ responseBody: JSON.stringify({ ...product, colour: 'red' }) }))).toEqual([
      expect.stringMatching(/response body: .*additional properties.*colour/),
    ]);
  });

  it('names a status the operation does not document, and an unknown route', () => {
    expect(exchangeProblems('catalog', get({ status: 409, responseBody: error('conflict') }))).toEqual([expect.stringMatching(/status 409 is not documented/)]);
    expect(exchangeProblems('catalog', get({ path: '/widgets' }))).toEqual([expect.stringMatching(/no operation/)]);
  });

  it('accepts a refused bad request when the refusal is documented, and flags a bad request that was served', () => {
    const bad = { method: 'POST', path: '/products', headers: { authorization: 'Bearer x' }, body: { name: 'Lamp', price: -1 } };
    expect(exchangeProblems('catalog', get({ ...bad, status: 400, responseBody: error('validation_failed') }))).toEqual([]);
    expect(exchangeProblems('catalog', get({ ...bad, status: 201 }))).toEqual([expect.stringMatching(/does not match the document \(body: .*\) yet was not refused/)]);
    expect(exchangeProblems('catalog', get({ method: 'PUT', body: {}, status: 401, responseBody: error('unauthorized') }))).toEqual([]);
  });

  it('checks an error body against the shared error schema', () => {
    expect(exchangeProblems('catalog', get({ status: 404, responseBody: JSON.stringify({ message: 'gone' }) }))).toEqual([
      expect.stringMatching(/response body: .*error/),
    ]);
  });
});
