import { context } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { addSpanProcessor, extractContext, inSpan, startTracing, traceparentOf, type TracingConfig } from './tracing';

const spans = new InMemorySpanExporter();
addSpanProcessor(new SimpleSpanProcessor(spans));
const caller = (flags: '00' | '01') => `00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-${flags}`;

/** A span continuing `traceparent` (a root without one): whether it was recorded, and the traceparent it passes on. */
async function spanUnder(sampler: TracingConfig['sampler'], traceparent?: string) {
  const { tracer } = startTracing('test', { sampler });
  spans.reset();
  const parent = extractContext(traceparent ? { traceparent } : {});
  const passedOn = await context.with(parent, () => inSpan('work', {}, async () => traceparentOf(), tracer));
  return { recorded: spans.getFinishedSpans().length, flags: passedOn?.slice(-2) };
}

describe('OTEL_TRACES_SAMPLER', () => {
  it('records every trace by default (parentbased_always_on), and follows a caller that did not sample', async () => {
    expect(await spanUnder(undefined)).toEqual({ recorded: 1, flags: '01' });
    expect(await spanUnder(undefined, caller('01'))).toEqual({ recorded: 1, flags: '01' });
    expect(await spanUnder(undefined, caller('00'))).toEqual({ recorded: 0, flags: '00' });
  });

  it('parentbased_traceidratio 0 records no new trace but every span of a sampled one, so a trace is whole or absent', async () => {
    const sampler = { name: 'parentbased_traceidratio' as const, ratio: 0 };
    expect(await spanUnder(sampler)).toEqual({ recorded: 0, flags: '00' });
    expect(await spanUnder(sampler, caller('01'))).toEqual({ recorded: 1, flags: '01' });
  });

  it('always_off records nothing, yet still passes a trace context on', async () => {
    expect(await spanUnder({ name: 'always_off', ratio: 1 }, caller('01'))).toEqual({ recorded: 0, flags: '00' });
  });
});
