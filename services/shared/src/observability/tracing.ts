// OpenTelemetry tracing, so that a trace follows one request across Kafka (docs/operations.md "Tracing"), with the SDK
// (@opentelemetry/sdk-trace-node), the API's W3C propagator and, when OTEL_EXPORTER_OTLP_ENDPOINT is set,
// the OTLP/HTTP exporter.
//
// Where the spans come from. Instrumentations that patch modules as they load see only what Node's
// CommonJS loader requires after they are registered. Here the services are ES modules run by tsx, whose
// static imports (koa, kafkajs, knex) are evaluated before any line of main.ts runs, and tests run them
// in jest's VM modules, whose module registry bypasses require hooks altogether; patching koa, http and
// kafkajs would need a preloaded --import hook in every start command and would still be absent from the
// tested journey. So the spans of the shop's units of work are started through the API at the places every
// service shares: the HTTP middleware (http/app.ts), the transaction and outbox helpers (infra/db.ts, outbox/writer.ts) and
// the consumer runner (messaging/consumer/telemetry.ts). @opentelemetry/instrumentation-kafkajs would not fit even where it
// patches: its producer overwrites the traceparent header with its own send span, which would cut the
// polling relay's records off the request's trace and make them differ from Debezium's. The instrumentation
// that fits is @opentelemetry/instrumentation-pg: knex requires pg when a database is created, after
// startTracing registered it, so each SQL statement gets a span under ours (when exporting; not in jest).
//
// Off by default, and then a no-op: without OTEL_EXPORTER_OTLP_ENDPOINT no provider and no context manager
// are started, and the API's no-op tracer makes every span. The context manager is what costs: measured on
// Node 20, whose AsyncLocalStorage ran a promise hook on every promise of the process, it took the catalog
// from 239 to 270 µs of CPU per GET /products/:id and from 906 to 1053 µs per POST /products (medians of 4
// interleaved runs of 10,000 GETs and 2,000 POSTs at 10 connections), far more than the spans themselves.
// The Node 24 the project now requires builds AsyncLocalStorage on AsyncContextFrame, without that hook;
// the figures have not been measured again on it. Off, there
// are no trace ids in the logs, and each outbox row starts a trace of its own (outbox/writer.ts), as it must
// always carry one.
import { context, createContextKey, propagation, ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Context, Span, SpanOptions, TextMapGetter, Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { z } from 'zod';
import { env, type ConfigOf } from '../platform/config';

export const tracingSettings = {
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    doc: 'OpenTelemetry: base URL of an OTLP/HTTP receiver (a collector, Jaeger: http://host:4318); spans go to <url>/v1/traces as JSON. Unset or empty: tracing is off, at no cost (no spans, no trace ids in logs, each event starts a trace of its own)',
    default: '',
    schema: env.url().optional(),
  },
  OTEL_SERVICE_NAME: {
    doc: "OpenTelemetry service.name of the service's spans (default: the service's own name, e.g. order-command)",
    default: '',
    schema: env.string().optional(),
  },
  OTEL_TRACES_SAMPLER: {
    doc: 'OpenTelemetry sampler: which traces are recorded and exported. parentbased_*: an event or a request with a traceparent follows the decision of its trace, so a trace is whole or absent; traceidratio: OTEL_TRACES_SAMPLER_ARG of them',
    default: 'parentbased_always_on',
    schema: env.oneOf(['parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio', 'always_on', 'always_off', 'traceidratio'] as const),
  },
  OTEL_TRACES_SAMPLER_ARG: {
    doc: 'OpenTelemetry: the share of traces the *traceidratio samplers record, 0 to 1',
    default: '1',
    schema: z.coerce.number().min(0).max(1),
  },
};

export interface TracingConfig {
  /** OTLP/HTTP base URL; spans are exported only when it is set. */
  endpoint?: string | undefined;
  /** service.name of the spans; the service's own name when unset. */
  serviceName?: string | undefined;
  /** Which traces are recorded (OTEL_TRACES_SAMPLER and its ratio); all of them when absent. */
  sampler?: { name: ConfigOf<typeof tracingSettings>['OTEL_TRACES_SAMPLER']; ratio: number } | undefined;
}

export const tracingFrom = (c: ConfigOf<typeof tracingSettings>): TracingConfig => ({
  endpoint: c.OTEL_EXPORTER_OTLP_ENDPOINT,
  serviceName: c.OTEL_SERVICE_NAME,
  sampler: { name: c.OTEL_TRACES_SAMPLER, ratio: c.OTEL_TRACES_SAMPLER_ARG },
});

/** The SDK's sampler of OTEL_TRACES_SAMPLER, built here so that the setting documented is the one in effect. */
function samplerOf(cfg: TracingConfig['sampler']): Sampler {
  const root = (name: string): Sampler =>
    name.endsWith('always_off')
      ? new AlwaysOffSampler()
      : name.endsWith('traceidratio')
        ? new TraceIdRatioBasedSampler(cfg?.ratio ?? 1)
        : new AlwaysOnSampler();
  const name = cfg?.name ?? 'parentbased_always_on';
  return name.startsWith('parentbased_') ? new ParentBasedSampler({ root: root(name) }) : root(name);
}

export interface Tracing {
  tracer: Tracer;
  serviceName: string;
  /** False when tracing is off (no endpoint, no processor added): the tracer is the API's no-op one. */
  enabled: boolean;
  /** True when spans are exported over OTLP. */
  exporting: boolean;
  /** Exports what is still buffered and stops the provider. */
  shutdown(): Promise<void>;
}

let propagatorInstalled = false;
let contextManagerInstalled = false;

/** The API's W3C propagator, once per process (cheap: it only reads and writes the traceparent header). */
function installPropagator(): void {
  if (propagatorInstalled) return;
  propagatorInstalled = true;
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
}

/** The API's context manager, once per process and only when tracing is on: AsyncLocalStorage, so that the active span follows awaits. */
function installContextManager(): void {
  if (contextManagerInstalled) return;
  contextManagerInstalled = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}

const extraProcessors: SpanProcessor[] = [];

/**
 * Every tracer provider started from now on also hands its spans to `processor` (tests: an in-memory
 * exporter), and tracing is on for them even without an endpoint. Stopping a service flushes it but does
 * not shut it down: other services may still be using it.
 */
export function addSpanProcessor(processor: SpanProcessor): void {
  extraProcessors.push(processor);
}

const shared = (p: SpanProcessor): SpanProcessor => ({
  onStart: (span, ctx) => p.onStart(span, ctx),
  onEnd: (span) => p.onEnd(span),
  forceFlush: () => p.forceFlush(),
  shutdown: () => p.forceFlush(),
});

let pgInstrumented = false;

/** A statement's SQL command, upper-cased ("INSERT", "COMMIT"), as the pg instrumentation names unnamed statements' spans. */
const sqlCommand = (text: string): string => (text.trim().split(/\s/, 1)[0] ?? '').toUpperCase().replace(/;$/, '');

/**
 * Starts the tracer provider of the service `service` when `cfg.endpoint` is set (or a processor was added):
 * its spans carry service.name and go to OTLP. A provider per service rather than one global provider, so
 * that services started in one process (the integration tests) keep their own service.name. Otherwise
 * tracing is off: the API's no-op tracer, nothing installed but the propagator.
 */
export function startTracing(service: string, cfg: TracingConfig = {}): Tracing {
  installPropagator();
  const serviceName = cfg.serviceName ?? service;
  if (!cfg.endpoint && extraProcessors.length === 0) {
    return { tracer: trace.getTracer('@qtshop/shared'), serviceName, enabled: false, exporting: false, shutdown: async () => undefined };
  }
  installContextManager();
  const exporter = cfg.endpoint ? new OTLPTraceExporter({ url: `${cfg.endpoint.replace(/\/+$/, '')}/v1/traces` }) : undefined;
  const provider = new NodeTracerProvider({
    sampler: samplerOf(cfg.sampler),
    resource: defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName })),
    spanProcessors: [...(exporter ? [new BatchSpanProcessor(exporter)] : []), ...extraProcessors.map(shared)],
  });
  let unpatch: (() => void) | undefined;
  if (exporter && !pgInstrumented) {
    pgInstrumented = true;
    // requireParentSpan: statements outside a traced unit of work (pool checks, the relay's loops) make no trace of their own.
    // A statement prepared under a name (infra/db.ts) would give its span that name ("pg.query:qtshop_7
    // orders"): the span keeps the SQL command, as for any other statement.
    const requestHook = (span: Span, info: { query: { text: string; name?: string }; connection: { database?: string } }) => {
      if (info.query.name) span.updateName(`pg.query:${sqlCommand(info.query.text)}${info.connection.database ? ` ${info.connection.database}` : ''}`);
    };
    unpatch = registerInstrumentations({ tracerProvider: provider, instrumentations: [new PgInstrumentation({ requireParentSpan: true, requestHook })] });
  }
  return {
    tracer: provider.getTracer('@qtshop/shared'),
    serviceName,
    enabled: true,
    exporting: exporter !== undefined,
    async shutdown() {
      if (unpatch) {
        unpatch();
        pgInstrumented = false;
      }
      await provider.shutdown();
    },
  };
}

let fallback: Tracing | undefined;
const TRACER = createContextKey('qtshop tracer');

/** `ctx` with `tracer` as the tracer of the work running in it (the HTTP middleware and the consumer runner set it). */
export function withTracer(ctx: Context, tracer: Tracer): Context {
  return ctx.setValue(TRACER, tracer);
}

/**
 * The tracer of the service whose request or event is being handled, so that shared code deeper down (a
 * transaction, an outbox write) makes its spans for that service; outside one (scripts, tests), the
 * process's, `qtshop` (the no-op tracer unless a test added a processor).
 */
export function activeTracer(ctx: Context = context.active()): Tracer {
  const own = ctx.getValue(TRACER) as Tracer | undefined;
  if (own) return own;
  fallback ??= startTracing('qtshop');
  return fallback.tracer;
}

/**
 * Runs `fn` in a new span, a child of the active one, ended when `fn` settles; a failure is recorded on it
 * (exception event, status ERROR) and rethrown.
 */
export function inSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>, tracer: Tracer = activeTracer()): Promise<T> {
  return tracer.startActiveSpan(name, options, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      failed(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Marks `span` failed with `err`. */
export function failed(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/** The W3C traceparent of `ctx`'s span (undefined when it has no valid one), as it goes into a header or the outbox. */
export function traceparentOf(ctx: Context = context.active()): string | undefined {
  installPropagator();
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent;
}

/** The trace context a carrier of headers (HTTP, Kafka) holds, as the parent of the span that handles it; the root context when none. */
export function extractContext<C>(carrier: C, getter?: TextMapGetter<C>): Context {
  installPropagator();
  return getter ? propagation.extract(ROOT_CONTEXT, carrier, getter) : propagation.extract(ROOT_CONTEXT, carrier);
}
