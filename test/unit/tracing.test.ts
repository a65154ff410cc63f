/**
 * OpenTelemetry spans from add to run on memory://: the add's PRODUCER span
 * and each attempt's CONSUMER span are one trace, the consumer parented on
 * and linked to the producer; a retry is one span per attempt; the task's own
 * spans nest under its attempt; log lines name the active span, those about
 * an attempt interrupted at shutdown too.
 */
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { pino } from "pino";
import { MemoryBackend, Queue, TRACE_META_KEY, task, traceMixin, Worker } from "sheppy";
import { afterEach, describe, expect, it } from "vitest";
import { tracedInThread } from "../fixtures/traced-sandbox-tasks.js";
import { collectLines } from "../support/log-lines.js";
import { registerTestTracing, spansNamed } from "../support/tracing.js";

const exporter = registerTestTracing();
afterEach(() => exporter.reset());

const echo = task({ name: "tracing.echo" }, (text: string) => text);

let flakyRuns = 0;
const flaky = task({ name: "tracing.flaky", retry: 1, retryDelay: 0 }, () => {
  flakyRuns++;
  if (flakyRuns === 1) throw new RangeError("first run fails");
  return "ok";
});

/** Runs until its signal says stop (or `ms` pass). */
const lingers = task({ name: "tracing.lingers" }, async (ms: number) => {
  await new Promise((resolve) => setTimeout(resolve, ms).unref());
});

const nests = task({ name: "tracing.nests" }, async () => {
  await trace.getTracer("app").startActiveSpan("app work", async (span) => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    span.end();
  });
});

function memoryQueue(name: string): Queue {
  return new Queue(new MemoryBackend({ instantProcessing: false }), { name });
}

async function runAll(queue: Queue, options: ConstructorParameters<typeof Worker>[1] = {}) {
  const worker = new Worker(queue, {
    scheduler: false,
    logger: pino({ level: "silent" }),
    ...options,
  });
  await worker.work({ oneshot: true });
}

describe("tracing on memory://", () => {
  it("add and run are one trace: the consumer is the producer's child and links to it", async () => {
    const queue = memoryQueue("traced");
    const t = echo("hi");
    await queue.add(t);
    const stored = await queue.getTask(t);
    await runAll(queue);
    await queue.close();
    const [producer] = spansNamed(exporter, "send traced");
    const [consumer] = spansNamed(exporter, "process traced");
    expect(producer).toBeDefined();
    expect(consumer).toBeDefined();
    expect(producer!.kind).toBe(SpanKind.PRODUCER);
    expect(consumer!.kind).toBe(SpanKind.CONSUMER);
    const { traceId, spanId } = producer!.spanContext();
    // The W3C propagator writes only a traceparent: stored as its bare text.
    expect(stored!.meta[TRACE_META_KEY]).toBe(`00-${traceId}-${spanId}-01`);
    expect(consumer!.spanContext().traceId).toBe(traceId);
    expect(consumer!.parentSpanContext?.spanId).toBe(spanId);
    expect(consumer!.links.map((link) => link.context.spanId)).toEqual([spanId]);
    expect(producer!.attributes).toMatchObject({
      "messaging.system": "sheppy",
      "messaging.destination.name": "traced",
      "messaging.operation.type": "send",
      "messaging.message.id": t.id,
    });
    expect(consumer!.attributes).toMatchObject({
      "messaging.system": "sheppy",
      "messaging.destination.name": "traced",
      "messaging.operation.type": "process",
      "messaging.message.id": t.id,
      "sheppy.task.name": "tracing.echo",
      "sheppy.task.attempt": 1,
      "sheppy.task.status": "completed",
    });
    expect(consumer!.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it("a bulk add is one span with its batch size; every record carries its context", async () => {
    const queue = memoryQueue("traced-bulk");
    const tasks = [echo("a"), echo("b"), echo("c")];
    await queue.add(tasks);
    const stored = await queue.getTask(tasks.map((t) => t.id));
    await queue.close();
    const producers = spansNamed(exporter, "send traced-bulk");
    expect(producers).toHaveLength(1);
    expect(producers[0]!.attributes["messaging.batch.message_count"]).toBe(3);
    const { spanId } = producers[0]!.spanContext();
    for (const record of stored) {
      expect(String(record!.meta[TRACE_META_KEY])).toContain(spanId);
    }
  });

  it("dedupe adds and schedules are traced too", async () => {
    const queue = memoryQueue("traced-dedupe");
    const first = echo("x");
    const later = echo("y");
    await queue.add(first, { dedupe: { key: "k" } });
    await queue.schedule(later, 3600);
    const [a, b] = await queue.getTask([first.id, later.id]);
    await queue.close();
    expect(spansNamed(exporter, "send traced-dedupe")).toHaveLength(2);
    expect(a!.meta[TRACE_META_KEY]).toBeDefined();
    expect(b!.meta[TRACE_META_KEY]).toBeDefined();
  });

  it("a task its producer did not trace (no SDK there): its retry joins the first attempt's trace, under that attempt", async () => {
    flakyRuns = 0;
    const queue = memoryQueue("untraced-producer");
    const backend = await queue.connect();
    // Stored as a process without an SDK stores it: no trace context in its meta.
    const record = { ...flaky().toJSON(), status: "pending" as const };
    expect(await backend.add(queue.name, [record])).toEqual([true]);
    await runAll(queue);
    const stored = await queue.getTask(record.id);
    await queue.close();
    const attempts = spansNamed(exporter, "process untraced-producer");
    expect(attempts.map((span) => span.attributes["sheppy.task.attempt"])).toEqual([1, 2]);
    const [first, second] = attempts;
    expect(first!.parentSpanContext).toBeUndefined();
    expect(second!.spanContext().traceId).toBe(first!.spanContext().traceId);
    expect(second!.parentSpanContext?.spanId).toBe(first!.spanContext().spanId);
    const { traceId, spanId } = first!.spanContext();
    expect(stored!.meta[TRACE_META_KEY]).toBe(`00-${traceId}-${spanId}-01`);
    flakyRuns = 0;
  });

  it("a failure then its retry: one consumer span per attempt, the failed one ERROR with the exception", async () => {
    const queue = memoryQueue("traced-retry");
    await queue.add(flaky());
    await runAll(queue);
    await queue.close();
    const [producer] = spansNamed(exporter, "send traced-retry");
    const attempts = spansNamed(exporter, "process traced-retry");
    expect(attempts.map((span) => span.attributes["sheppy.task.attempt"])).toEqual([1, 2]);
    const [failed, retried] = attempts;
    expect(failed!.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed!.attributes["sheppy.task.status"]).toBe("retrying");
    expect(failed!.attributes["error.type"]).toBe("RangeError");
    expect(retried!.attributes).not.toHaveProperty("error.type");
    const exception = failed!.events.find((event) => event.name === "exception");
    expect(exception?.attributes).toMatchObject({
      "exception.type": "RangeError",
      "exception.message": "first run fails",
    });
    expect(retried!.status.code).not.toBe(SpanStatusCode.ERROR);
    for (const span of attempts) {
      expect(span.spanContext().traceId).toBe(producer!.spanContext().traceId);
      expect(span.parentSpanContext?.spanId).toBe(producer!.spanContext().spanId);
    }
  });

  it("whatever a task throws, the worker lives, the task fails, and its span says what the record says", async () => {
    const hostile: Record<string, () => unknown> = {
      "no prototype": () => Object.create(null),
      "toString throws": () => ({
        toString() {
          throw new Error("toString exploded");
        },
      }),
      "every trap throws": () =>
        new Proxy(
          {},
          Object.fromEntries(
            ["get", "has", "ownKeys", "getPrototypeOf", "getOwnPropertyDescriptor"].map((trap) => [
              trap,
              () => {
                throw new Error(`trap ${trap}`);
              },
            ]),
          ),
        ),
      "a plain object": () => ({ code: 42 }),
      "a symbol": () => Symbol("thrown"),
      "an error whose message getter throws": () => {
        const error = new Error("x");
        Object.defineProperty(error, "message", {
          get() {
            throw new Error("message getter");
          },
        });
        return error;
      },
      "a 20,000-character message": () => new Error("m".repeat(20_000)),
    };
    const throwing = task({ name: "tracing.throws" }, (kind: string) => {
      throw hostile[kind]!();
    });
    const queue = memoryQueue("traced-hostile");
    const tasks = Object.keys(hostile).map((kind) => throwing(kind));
    await queue.add(tasks);
    await runAll(queue);
    const records = await queue.getTask(tasks);
    await queue.close();
    const spans = spansNamed(exporter, "process traced-hostile");
    expect(spans).toHaveLength(tasks.length);
    for (const record of records) {
      expect(record?.status).toBe("failed");
      const span = spans.find((s) => s.attributes["messaging.message.id"] === record!.id)!;
      const error = record!.error!;
      expect(error.message.length).toBeLessThanOrEqual(8_000);
      expect(span.status).toEqual({
        code: SpanStatusCode.ERROR,
        message: `${error.type}: ${error.message}`,
      });
      const exception = span.events.find((event) => event.name === "exception");
      expect(exception?.attributes).toMatchObject({
        "exception.type": error.type,
        "exception.message": error.message,
      });
    }
  });

  it("the task's own spans nest under its attempt's span", async () => {
    const queue = memoryQueue("traced-nest");
    await queue.add(nests());
    await runAll(queue);
    await queue.close();
    const [consumer] = spansNamed(exporter, "process traced-nest");
    const [inner] = spansNamed(exporter, "app work");
    expect(inner!.spanContext().traceId).toBe(consumer!.spanContext().traceId);
    expect(inner!.parentSpanContext?.spanId).toBe(consumer!.spanContext().spanId);
  });

  it("a sandboxed task runs in its attempt's context in the thread", async () => {
    const queue = memoryQueue("traced-sandbox");
    const t = tracedInThread();
    await queue.add(t);
    await runAll(queue);
    const done = await queue.getTask(t);
    await queue.close();
    const [consumer] = spansNamed(exporter, "process traced-sandbox");
    const { traceId, spanId } = consumer!.spanContext();
    expect(done?.result).toEqual({ traceId, spanId });
  });

  it("inline processing (memory:// instant mode) is traced the same way", async () => {
    const queue = new Queue("memory://", { name: "traced-inline" });
    const t = echo("now");
    await queue.add(t);
    await queue.waitFor(t, { timeout: 5 });
    await queue.close();
    const [producer] = spansNamed(exporter, "send traced-inline");
    const [consumer] = spansNamed(exporter, "process traced-inline");
    expect(consumer!.parentSpanContext?.spanId).toBe(producer!.spanContext().spanId);
  });

  it("the worker's task lines carry the attempt span's traceId and spanId", async () => {
    const { lines, sink } = collectLines();
    const queue = memoryQueue("traced-logs");
    await queue.add(echo("logged"));
    const logger = pino({ level: "info", mixin: traceMixin }, sink);
    await runAll(queue, { logTasks: true, logger });
    await queue.close();
    const [consumer] = spansNamed(exporter, "process traced-logs");
    const { traceId, spanId } = consumer!.spanContext();
    const taskLines = lines.filter((line) => String(line.msg).startsWith("task "));
    expect(taskLines.map((line) => line.msg)).toEqual(["task started", "task completed"]);
    for (const line of taskLines) expect(line).toMatchObject({ traceId, spanId });
    logger.info("outside any task");
    expect(lines.at(-1)).not.toHaveProperty("traceId");
  });

  it("the lines about an attempt interrupted at shutdown, and a task:interrupted listener's, carry its span", async () => {
    const { lines, sink } = collectLines();
    const queue = memoryQueue("traced-interrupted");
    await queue.add(lingers(5_000));
    const logger = pino({ level: "info", mixin: traceMixin }, sink);
    const worker = new Worker(queue, { scheduler: false, logger, shutdownTimeout: 0.1 });
    worker.on("task:interrupted", () => logger.info("listener heard task:interrupted"));
    const working = worker.work();
    await new Promise<void>((resolve) => worker.once("task:started", () => resolve()));
    await worker.close();
    await working;
    await queue.close();
    const [consumer] = spansNamed(exporter, "process traced-interrupted");
    const { traceId, spanId } = consumer!.spanContext();
    const about = lines.filter((line) =>
      /interrupted a running task|listener heard/.test(String(line.msg)),
    );
    expect(about).toHaveLength(2);
    for (const line of about) expect(line).toMatchObject({ traceId, spanId });
  });
});
