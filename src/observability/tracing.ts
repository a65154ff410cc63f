/**
 * @module observability/tracing
 * OpenTelemetry through its API alone: Sheppy makes spans only when the
 * application registered an SDK (a tracer provider); without one every
 * function here returns at a pointer comparison, so tracing costs an untraced
 * worker nothing measurable. Trace context travels with a task as a W3C
 * carrier (`traceparent`, `tracestate`, whatever the registered propagator
 * writes) under the reserved meta key {@link TRACE_META_KEY}.
 */
import {
  type Attributes,
  type Context,
  context,
  INVALID_SPANID,
  INVALID_TRACEID,
  isSpanContextValid,
  type Link,
  ProxyTracerProvider,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import { VERSION } from "../util/version.js";

/**
 * The key of a task record's `meta` that holds the trace context of the add
 * that made it: its `traceparent` text when that is all the propagator wrote
 * (the common case, and the cheapest to store and read back), else the
 * carrier object (`traceparent`, `tracestate`, `baggage`…). Reserved: Sheppy
 * overwrites it.
 */
export const TRACE_META_KEY = "sheppy.trace";

/** A W3C trace-context carrier: header name → value. */
export type TraceCarrier = Record<string, string>;

/** How a carrier is stored under {@link TRACE_META_KEY}. */
export type StoredCarrier = string | TraceCarrier;

/** The stored form of `carrier`: a bare `traceparent` when nothing else goes with it. */
export function storedCarrier(carrier: TraceCarrier): StoredCarrier {
  for (const key in carrier) if (key !== "traceparent") return carrier;
  return carrier.traceparent!;
}

/** `messaging.system` of every Sheppy span. */
export const MESSAGING_SYSTEM = "sheppy";

let cachedDelegate: TracerProvider | undefined;
let cachedTracer: Tracer | undefined;

/**
 * Sheppy's tracer, or `undefined` when no SDK is registered. Looked up per
 * call rather than once, because applications and tests register (and
 * replace) their provider after Sheppy is loaded; the cache keeps the lookup
 * to one comparison.
 */
export function activeTracer(): Tracer | undefined {
  const provider = trace.getTracerProvider();
  if (!(provider instanceof ProxyTracerProvider)) return provider.getTracer("sheppy", VERSION);
  const delegate = provider.getDelegate();
  if (delegate !== cachedDelegate) {
    cachedDelegate = delegate;
    cachedTracer = provider.getDelegateTracer("sheppy", VERSION);
  }
  return cachedTracer;
}

/**
 * Hands the spans the application's SDK still holds to its exporter, for at
 * most `timeoutMs`: called before a worker ends its process, which would
 * otherwise drop the spans of its last attempts (an SDK's batch processor
 * exports every few seconds). Nothing without an SDK, or with one whose
 * provider cannot flush; an export that fails is the SDK's to report.
 */
export async function flushTracing(timeoutMs: number): Promise<void> {
  const provider = trace.getTracerProvider();
  const target = provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider;
  const flush = (target as { forceFlush?: unknown }).forceFlush;
  if (typeof flush !== "function") return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.resolve()
      .then(() => flush.call(target))
      .catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}

/** A span Sheppy started, with the context that makes it the active span. */
export interface StartedSpan {
  readonly span: Span;
  readonly context: Context;
}

/**
 * Starts a span of `kind` under `parent`; `undefined` when there is no SDK or
 * the span has no valid context (nothing would be exported or propagated).
 */
export function startSpan(
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  parent: Context,
  links?: Link[],
): StartedSpan | undefined {
  const tracer = activeTracer();
  if (!tracer) return undefined;
  let span: Span;
  try {
    span = tracer.startSpan(
      name,
      links ? { kind, attributes, links } : { kind, attributes },
      parent,
    );
  } catch {
    // A faulty sampler or span processor of the application costs this span, never the add or the attempt.
    return undefined;
  }
  // Any SDK gives its spans real ids (sampled out or not); the all-zero id is the no-op span's.
  if (span.spanContext().traceId === INVALID_TRACEID) return undefined;
  return { span, context: trace.setSpan(parent, span) };
}

/** The carrier of `ctx`'s span: what the registered propagator writes, or a `traceparent` of our own when none is registered. */
export function injectCarrier(ctx: Context, span: Span): TraceCarrier {
  const carrier: TraceCarrier = {};
  try {
    propagation.inject(ctx, carrier);
  } catch {
    // A faulty propagator: the traceparent below still carries the trace.
  }
  if (carrier.traceparent === undefined) {
    // Without a propagator the trace would break at the queue; W3C is the format every SDK reads.
    const { traceId, spanId, traceFlags } = span.spanContext();
    carrier.traceparent = `00-${traceId}-${spanId}-0${traceFlags & 1}`;
  }
  return carrier;
}

/** The carrier of the active span, if there is one worth handing on (a sandbox thread's parent). */
export function activeCarrier(): TraceCarrier | undefined {
  const ctx = context.active();
  const span = trace.getSpan(ctx);
  if (!span || !isSpanContextValid(span.spanContext())) return undefined;
  return injectCarrier(ctx, span);
}

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/;

/**
 * The context a stored carrier describes, on top of the root context (a
 * task's run does not belong to whatever happened to be active in the worker).
 */
export function extractContext(stored: unknown): Context {
  // A bare traceparent is all the propagator wrote at the add: read it directly, a step per attempt less.
  if (typeof stored === "string") return withTraceparent(ROOT_CONTEXT, stored);
  if (typeof stored !== "object" || stored === null) return ROOT_CONTEXT;
  const headers = stored as TraceCarrier;
  let extracted = ROOT_CONTEXT;
  try {
    extracted = propagation.extract(ROOT_CONTEXT, headers);
  } catch {
    // A faulty propagator: fall back to the traceparent, as without one.
  }
  if (trace.getSpan(extracted) || typeof headers.traceparent !== "string") return extracted;
  return withTraceparent(extracted, headers.traceparent);
}

/** `ctx` with the remote parent `traceparent` names; `ctx` itself when the text is not a valid one. */
function withTraceparent(ctx: Context, traceparent: string): Context {
  const match = TRACEPARENT.exec(traceparent);
  if (!match) return ctx;
  const remote: SpanContext = {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: Number.parseInt(match[3]!, 16) & 1,
    isRemote: true,
  };
  // The pattern checked the hex already; only the all-zero ids are left to refuse.
  return remote.traceId === INVALID_TRACEID || remote.spanId === INVALID_SPANID
    ? ctx
    : trace.setSpanContext(ctx, remote);
}

/**
 * What a span records of a failure: the error's class name, message and
 * stack, as stored with the task (read from the thrown value with every read
 * guarded: a task may throw anything, and the span must say what the record
 * says).
 */
export interface SpanFailure {
  readonly type: string;
  readonly message: string;
  readonly stack?: string | null | undefined;
}

/** Marks `span` failed (an exception event and an ERROR status) with `failure`. */
export function failSpan(span: Span, failure: SpanFailure): void {
  spanSafely(() => {
    span.recordException({
      name: failure.type,
      message: failure.message,
      ...(failure.stack ? { stack: failure.stack } : {}),
    });
    span.setStatus({ code: SpanStatusCode.ERROR, message: `${failure.type}: ${failure.message}` });
    // The semantic conventions' attribute for what failed: a backend groups failures by it.
    span.setAttribute("error.type", failure.type);
  });
}

/**
 * Runs `record` (calls on a span), ignoring what it throws: an application's
 * span implementation or processor that throws costs the span's detail,
 * never the add or the attempt it describes.
 */
export function spanSafely(record: () => void): void {
  try {
    record();
  } catch {
    // Nothing to do: the span is the application's, the work is ours.
  }
}

/**
 * A pino `mixin`: adds the active span's `traceId` and `spanId` to each log
 * line written while a span is active, so logs and traces join up.
 * @example
 * const logger = pino({ mixin: traceMixin });
 */
export function traceMixin(): { traceId?: string; spanId?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const spanContext = span.spanContext();
  if (!isSpanContextValid(spanContext)) return {};
  return { traceId: spanContext.traceId, spanId: spanContext.spanId };
}

export { context, type Span, SpanKind, trace };
