/**
 * @module queue/publish-span
 * The PRODUCER span of an add: one per `add`/`schedule` call however many
 * tasks it carries, so a bulk add pays for one span and one carrier, which
 * every record of the call shares under `meta["sheppy.trace"]` (the bare
 * `traceparent` text when the propagator wrote nothing else). Without an
 * SDK the records are written as they are.
 */
import {
  activeTracer,
  context,
  failSpan,
  injectCarrier,
  MESSAGING_SYSTEM,
  SpanKind,
  spanSafely,
  startSpan,
  storedCarrier,
  TRACE_META_KEY,
} from "../observability/tracing.js";
import { errorToData } from "../task/stored-error.js";
import type { TaskData } from "../task/task-record.js";

/**
 * Calls `write` with `records` — carrying the trace context of a new
 * `send <queue>` span when tracing is on — inside that span, and ends it
 * when the write settles.
 */
export function publishTraced<T>(
  queue: string,
  records: readonly TaskData[],
  write: (records: readonly TaskData[]) => Promise<T>,
): Promise<T> {
  // Without an SDK, nothing below is needed: the attributes and the active context are not built.
  if (activeTracer() === undefined) return write(records);
  const count = records.length;
  const first = records[0];
  const started = startSpan(
    `send ${queue}`,
    SpanKind.PRODUCER,
    count === 1 && first
      ? {
          "messaging.system": MESSAGING_SYSTEM,
          "messaging.destination.name": queue,
          "messaging.operation.type": "send",
          "messaging.operation.name": "send",
          "messaging.message.id": first.id,
          "sheppy.task.name": first.name,
        }
      : {
          "messaging.system": MESSAGING_SYSTEM,
          "messaging.destination.name": queue,
          "messaging.operation.type": "send",
          "messaging.operation.name": "send",
          "messaging.batch.message_count": count,
        },
    context.active(),
  );
  if (!started) return write(records);
  const { span } = started;
  const carrier = storedCarrier(injectCarrier(started.context, span));
  const traced = records.map(
    (record): TaskData => ({ ...record, meta: { ...record.meta, [TRACE_META_KEY]: carrier } }),
  );
  return context.with(started.context, write, undefined, traced).then(
    (result) => {
      spanSafely(() => span.end());
      return result;
    },
    (error: unknown) => {
      failSpan(span, errorToData(error));
      spanSafely(() => span.end());
      throw error;
    },
  );
}
