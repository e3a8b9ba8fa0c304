import { Writable } from 'node:stream';
import { context, trace, type SpanContext } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { createLogger } from './logging';
import { addSpanProcessor, extractContext, inSpan, startTracing } from '../observability/tracing';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')));
      done();
    },
  });
  return { log: createLogger('test', 'info', sink), lines };
}

const ids = (c: SpanContext) => ({ trace_id: c.traceId, span_id: c.spanId });

describe('log lines, with tracing on', () => {
  addSpanProcessor(new SimpleSpanProcessor(new InMemorySpanExporter()));
  const { tracer } = startTracing('test');

  it('carry the trace_id and span_id of the span they are logged in, across awaits and in child loggers', async () => {
    const { log, lines } = capture();
    let outer: SpanContext | undefined, inner: SpanContext | undefined;
    await inSpan(
      'request',
      {},
      async (span) => {
        outer = span.spanContext();
        log.info('in the request');
        await new Promise((r) => setTimeout(r, 1));
        await inSpan(
          'transaction',
          {},
          async (child) => {
            inner = child.spanContext();
            log.child({ eventId: 'e-1' }).info({ table: 'outbox' }, 'in the transaction');
          },
          tracer,
        );
        log.warn('back in the request');
      },
      tracer,
    );
    expect(lines.map(({ msg, trace_id, span_id, eventId, table }) => ({ msg, trace_id, span_id, eventId, table }))).toEqual([
      { msg: 'in the request', ...ids(outer!), eventId: undefined, table: undefined },
      { msg: 'in the transaction', ...ids(inner!), eventId: 'e-1', table: 'outbox' },
      { msg: 'back in the request', ...ids(outer!), eventId: undefined, table: undefined },
    ]);
    expect(inner!.traceId).toBe(outer!.traceId);
  });

  it('carry the trace of a span that continues a remote caller (a traceparent header)', () => {
    const { log, lines } = capture();
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const parent = extractContext({ traceparent: `00-${traceId}-b7ad6b7169203331-01` });
    const span = tracer.startSpan('process qtshop.order', {}, parent);
    context.with(trace.setSpan(parent, span), () => log.info('handled'));
    span.end();
    expect(lines[0]).toEqual(expect.objectContaining({ msg: 'handled', ...ids(span.spanContext()) }));
    expect(span.spanContext().traceId).toBe(traceId);
  });

  it('carry no trace fields outside a span, and keep their own fields', () => {
    const { log, lines } = capture();
    log.info({ trace: 'mine' }, 'outside');
    expect(lines[0]).toMatchObject({ msg: 'outside', trace: 'mine' });
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(lines[0]).not.toHaveProperty('span_id');
  });
});
