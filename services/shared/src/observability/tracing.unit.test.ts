import { Writable } from 'node:stream';
import { context, trace } from '@opentelemetry/api';
import { createLogger } from '../platform/logging';
import { extractContext, inSpan, startTracing, traceparentOf } from './tracing';

describe('tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT, the default)', () => {
  const tracing = startTracing('test', {});

  it('is the no-op tracer: spans record nothing and no context manager follows awaits', async () => {
    expect(tracing).toMatchObject({ enabled: false, exporting: false, serviceName: 'test' });
    await inSpan(
      'request',
      {},
      async (span) => {
        expect(span.isRecording()).toBe(false);
        await Promise.resolve();
        expect(trace.getSpan(context.active())).toBeUndefined();
        expect(traceparentOf()).toBeUndefined();
      },
      tracing.tracer,
    );
    await tracing.shutdown();
  });

  it('still reads and writes W3C traceparents (the propagator costs nothing)', () => {
    const caller = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect(traceparentOf(extractContext({ traceparent: caller }))).toBe(caller);
    expect(traceparentOf(extractContext({ traceparent: 'nonsense' }))).toBeUndefined();
  });

  it('puts no trace ids on log lines', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString('utf8')));
        done();
      },
    });
    const log = createLogger('test', 'info', sink);
    await inSpan('request', {}, async () => log.info('inside'), tracing.tracer);
    expect(lines[0]).toMatchObject({ msg: 'inside' });
    expect(lines[0]).not.toHaveProperty('trace_id');
  });
});
