/**
 * An application's faulty tracing (a sampler that throws, a propagator that
 * throws) costs spans, never an add or an attempt.
 */
import { propagation, trace } from "@opentelemetry/api";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { MemoryBackend, Queue, task, Worker } from "sheppy";
import { describe, expect, it } from "vitest";

trace.setGlobalTracerProvider(
  new BasicTracerProvider({
    sampler: {
      shouldSample: () => {
        throw new Error("sampler broke");
      },
    },
  }),
);
propagation.setGlobalPropagator({
  inject: () => {
    throw new Error("propagator broke");
  },
  extract: () => {
    throw new Error("propagator broke");
  },
  fields: () => [],
});

const echo = task({ name: "tracing-faulty.echo" }, (text: string) => text);

describe("faulty tracing in the application", () => {
  it("tasks are added and run as usual", async () => {
    const queue = new Queue(new MemoryBackend({ instantProcessing: false }), { name: "faulty" });
    const t = echo("still works");
    expect(await queue.add(t)).toBe(true);
    await queue.add([echo("a"), echo("b")]);
    const summary = await new Worker(queue, { scheduler: false }).work({ oneshot: true });
    expect(summary.processed).toBe(3);
    expect((await queue.getTask(t))?.result).toBe("still works");
    await queue.close();
  });
});
