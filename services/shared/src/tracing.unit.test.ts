import { context, trace } from '@opentelemetry/api';
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
});
