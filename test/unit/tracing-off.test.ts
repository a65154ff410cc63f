/**
 * Without an OpenTelemetry SDK nothing is traced and nothing is written: no
 * trace meta on records, no span ids in logs, and a task that arrives with a
 * trace context from a traced producer runs as any other.
 */

import { pino } from "pino";
import { MemoryBackend, Queue, TRACE_META_KEY, task, traceMixin, Worker } from "sheppy";
import { describe, expect, it } from "vitest";

const echo = task({ name: "tracing-off.echo" }, (text: string) => text);

describe("tracing without an SDK", () => {
  it("writes no trace meta and runs tasks as usual", async () => {
    const queue = new Queue(new MemoryBackend({ instantProcessing: false }), {
      name: "untraced",
    });
    const single = echo("a");
    const bulk = [echo("b"), echo("c")];
    await queue.add(single);
    await queue.add(bulk);
    await queue.add(echo("d"), { dedupe: { key: "d" } });
    for (const stored of await queue.getAllTasks()) expect(stored.meta).toEqual({});
    const summary = await new Worker(queue, { scheduler: false, logTasks: true }).work({
      oneshot: true,
    });
    expect(summary.processed).toBe(4);
    await queue.close();
  });

  it("a task carrying a producer's trace context runs without one here", async () => {
    const queue = new Queue(new MemoryBackend({ instantProcessing: false }), {
      name: "untraced-carried",
    });
    const t = echo("carried");
    const data = {
      ...t.toJSON(),
      status: "pending" as const,
      meta: {
        [TRACE_META_KEY]: {
          traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        },
      },
    };
    await (await queue.connect()).add(queue.name, [data], "unique");
    await new Worker(queue, { scheduler: false }).work({ oneshot: true });
    const done = await queue.getTask(t);
    expect(done?.status).toBe("completed");
    await queue.close();
  });

  it("traceMixin adds nothing when no span is active", () => {
    expect(traceMixin()).toEqual({});
    expect(() => pino({ level: "silent", mixin: traceMixin }).info("x")).not.toThrow();
  });
});
