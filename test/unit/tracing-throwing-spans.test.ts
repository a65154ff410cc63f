/**
 * An application's span processor that throws when a span ends (and spans
 * whose recording calls throw) costs spans, never an add or an attempt: the
 * work goes on and its records are the same as without tracing.
 */
import { trace } from "@opentelemetry/api";
import { BasicTracerProvider, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { MemoryBackend, Queue, task, Worker } from "sheppy";
import { describe, expect, it } from "vitest";

const breaksOnEnd: SpanProcessor = {
  onStart: () => undefined,
  onEnd: () => {
    throw new Error("processor broke");
  },
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
};
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [breaksOnEnd] }));

const echo = task({ name: "tracing-throwing.echo" }, (text: string) => text);
const fails = task({ name: "tracing-throwing.fails" }, () => {
  throw new TypeError("task failed");
});

describe("a span processor that throws", () => {
  it("tasks are added, run and fail as usual", async () => {
    const queue = new Queue(new MemoryBackend({ instantProcessing: false }), { name: "throwing" });
    const [ok, bad] = [echo("still works"), fails()];
    expect(await queue.add([ok, bad])).toEqual([true, true]);
    const summary = await new Worker(queue, { scheduler: false }).work({ oneshot: true });
    expect(summary).toMatchObject({ processed: 1, failed: 1 });
    const [done, failed] = await queue.getTask([ok, bad]);
    expect(done).toMatchObject({ status: "completed", result: "still works" });
    expect(failed?.status).toBe("failed");
    expect(failed?.error?.message).toBe("task failed");
    await queue.close();
  });
});
