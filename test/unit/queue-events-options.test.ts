/**
 * queue.events() checks every option it takes at the call: a value of
 * the wrong kind is an InvalidOptionError naming the option and showing what
 * was given — a string in quotes, so "5" is not read as the number 5 — and a
 * signal that is not an AbortSignal is refused rather than ignored (the loop
 * could then never be stopped).
 */
import { InvalidOptionError, Queue } from "sheppy";
import { describe, expect, it } from "vitest";

const queue = new Queue("memory://?instantProcessing=false", { name: "queue-events-options" });

describe("queue.events() options", () => {
  it.each([
    [{ signal: "x" }, 'queue.events(): signal must be an AbortSignal (got "x")'],
    [{ signal: {} }, "queue.events(): signal must be an AbortSignal (got [object Object])"],
    [{ batchSize: "5" }, 'queue.events(): batchSize must be an integer ≥ 1 (got "5")'],
    [{ batchSize: 0 }, "queue.events(): batchSize must be an integer ≥ 1 (got 0)"],
    [{ after: "" }, 'queue.events(): after must be "now", "start" or an event id (got "")'],
    [{ after: 5 }, 'queue.events(): after must be "now", "start" or an event id (got 5)'],
  ])("%o is refused in one line", (options, message) => {
    let error: unknown = null;
    try {
      queue.events(options as never);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as Error).message).toBe(message);
  });

  it("an AbortSignal ends the iteration when it aborts", async () => {
    const controller = new AbortController();
    const events = queue.events({ signal: controller.signal, after: "start" });
    const next = events.next();
    controller.abort();
    expect(await next).toEqual({ done: true, value: undefined });
  });
});
