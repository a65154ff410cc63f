/**
 * @module execution/attempt-span
 * The CONSUMER span of one attempt (`process <queue>`): a child of the add
 * that made the task (its context comes from the record's meta), with a link
 * to that add as well, so trace viewers that follow only links or only
 * parents both join the two. One span per attempt: a retry is a new span in
 * the same trace.
 */
import type { SettleResult } from "../backends/backend.js";
import {
  activeTracer,
  extractContext,
  failSpan,
  MESSAGING_SYSTEM,
  type Span,
  SpanKind,
  type StartedSpan,
  spanSafely,
  startSpan,
  TRACE_META_KEY,
  trace,
} from "../observability/tracing.js";
import { errorToData } from "../task/stored-error.js";
import { attemptNumber, type TaskData } from "../task/task-record.js";

/** Starts the span of an attempt of `record`; `undefined` when tracing is off. */
export function startAttemptSpan(queue: string, record: TaskData): StartedSpan | undefined {
  // Without an SDK, neither the stored context is read nor the attributes built.
  if (activeTracer() === undefined) return undefined;
  const carrier = record.meta[TRACE_META_KEY];
  const parent = extractContext(carrier);
  const attributes = {
    "messaging.system": MESSAGING_SYSTEM,
    "messaging.destination.name": queue,
    "messaging.operation.type": "process",
    "messaging.operation.name": "process",
    "messaging.message.id": record.id,
    "sheppy.task.name": record.name,
    "sheppy.task.attempt": attemptNumber(record),
  };
  const producer = carrier === undefined ? undefined : trace.getSpanContext(parent);
  return startSpan(
    `process ${queue}`,
    SpanKind.CONSUMER,
    attributes,
    parent,
    producer ? [{ context: producer }] : undefined,
  );
}

/**
 * Records how the function of the attempt ended: the status it leaves, and
 * its error — as the record stores it when it does (the same text, cut to the
 * same length), else read from the thrown value as a record would store it.
 */
export function spanExecuted(span: Span, record: TaskData, error: unknown): void {
  spanSafely(() => span.setAttribute("sheppy.task.status", record.status));
  if (error === undefined && record.status !== "failed" && record.status !== "retrying") return;
  failSpan(
    span,
    record.error ??
      (error === undefined ? { type: "Error", message: record.status } : errorToData(error)),
  );
}

/** Ends the span once the outcome reached the backend, or could not. */
export function endAttemptSpan(span: Span, result: SettleResult | "unsettled" | "abandoned"): void {
  spanSafely(() => {
    if (result !== "settled") span.setAttribute("sheppy.settle.result", result);
    span.end();
  });
}
