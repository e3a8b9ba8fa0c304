// With OTEL_EXPORTER_OTLP_ENDPOINT set, a service started as npm start starts it (node --import tsx
// main.ts, its own process) exports its spans over OTLP/HTTP, including those still buffered when it is
// stopped, with its service.name, and the pg instrumentation's statement spans under the shop's own spans;
// the outbox row's traceparent is the outbox write's span.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { waitUntil } from '@qtshop/shared/platform';
import { createDb, loadInfra } from '@qtshop/shared/infra';
import { migrateAll } from '../../scripts/migrate';
import { ADMIN, http } from '../support/services';
import { startServiceProcess } from '../support/service-process';

interface OtlpSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean };
type OtlpAttribute = { key: string; value: OtlpValue };
const valueOf = (v: OtlpValue) => v.stringValue ?? v.intValue ?? v.boolValue;
const attributesOf = (list: OtlpAttribute[] = []) => Object.fromEntries(list.map((a) => [a.key, valueOf(a.value)]));

/** An OTLP/HTTP receiver of JSON trace exports, as a collector or Jaeger listens on 4318. */
function otlpReceiver(): Promise<{ server: Server; url: string; spans: OtlpSpan[]; requests: string[] }> {
  const spans: OtlpSpan[] = [];
  const requests: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      requests.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      const doc = JSON.parse(body) as {
        resourceSpans: Array<{
          resource: { attributes: OtlpAttribute[] };
          scopeSpans: Array<{ spans: Array<Omit<OtlpSpan, 'service' | 'attributes'> & { attributes: OtlpAttribute[] }> }>;
        }>;
      };
      for (const rs of doc.resourceSpans) {
        const service = String(attributesOf(rs.resource.attributes)['service.name']);
        for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, service, attributes: attributesOf(s.attributes) });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((ok) =>
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      ok({ server, url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, spans, requests });
    }),
  );
}

describe('OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  const db = createDb(loadInfra(), 'catalog');
  let receiver: Awaited<ReturnType<typeof otlpReceiver>>;
  beforeAll(async () => {
    await migrateAll(['catalog']);
    receiver = await otlpReceiver();
  });
  afterAll(async () => {
    await db.destroy();
    await new Promise((r) => receiver?.server.close(r));
  });

  it("exports a request's spans over OTLP/HTTP: server span, transaction, outbox write and its pg statements, under the caller's trace", async () => {
    const catalog = await startServiceProcess('catalog', { OTEL_EXPORTER_OTLP_ENDPOINT: `${receiver.url}/`, OTEL_SERVICE_NAME: 'catalog-under-test' });
    let stopped = false;
    try {
      const traceId = randomUUID().replace(/-/g, '');
      const caller = `00-${traceId}-00f067aa0ba902b7-01`;
      const product = { name: `Lamp ${randomUUID()}`, description: 'Brass', type: 'home', brand: 'Lumo', pictureUrl: '', price: 4900 };
      const res = await http('POST', `${catalog.url}/products`, product, { ...ADMIN, traceparent: caller });
      expect(res.status).toBe(201);
      // Stopped at once: the spans still in the batch processor are exported on the way out.
      catalog.child.kill('SIGTERM');
      expect(await catalog.exited).toBe(0);
      stopped = true;

      const spans = await waitUntil(
        async () => {
          const mine = receiver.spans.filter((s) => s.traceId === traceId);
          return mine.some((s) => s.name === 'outbox ProductCreated') && mine;
        },
        { timeoutMs: 10_000, what: 'the spans of the request at the receiver' },
      );
      expect(receiver.requests.every((r) => r.startsWith('POST /v1/traces application/json'))).toBe(true);
      expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['catalog-under-test']));
      const named = (name: string) => spans.find((s) => s.name === name)!;
      const server = named('POST /products');
      const transaction = named('transaction catalog');
      const outbox = named('outbox ProductCreated');
      expect(server).toMatchObject({ parentSpanId: '00f067aa0ba902b7', kind: 2, attributes: { 'http.route': '/products', 'http.response.status_code': 201 } });
      expect(transaction.parentSpanId).toBe(server.spanId);
      expect(outbox).toMatchObject({ parentSpanId: transaction.spanId, kind: 4, attributes: { 'messaging.message.id': expect.any(String) } });
      // @opentelemetry/instrumentation-pg: each statement of the transaction, under the span it ran in.
      const statements = spans.filter((s) => s.attributes['db.system'] === 'postgresql' || s.attributes['db.system.name'] === 'postgresql');
      const under = (parent: OtlpSpan) => statements.filter((s) => s.parentSpanId === parent.spanId && s.name.startsWith('pg.query')).map((s) => s.name);
      expect(under(transaction)).toEqual(expect.arrayContaining(['pg.query:BEGIN catalog', 'pg.query:INSERT catalog', 'pg.query:COMMIT catalog']));
      expect(under(outbox)).toEqual(['pg.query:INSERT catalog']);

      const row = await db('outbox')
        .where({ id: outbox.attributes['messaging.message.id'] as string })
        .first();
      expect(row.traceparent).toBe(`00-${traceId}-${outbox.spanId}-01`);
    } finally {
      if (!stopped) catalog.child.kill('SIGKILL');
    }
  }, 60_000);
});
