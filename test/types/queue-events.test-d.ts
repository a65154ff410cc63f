/**
 * `queue.events()`: an event narrows by its `type`, and naming `types`
 * narrows what the loop is given.
 */
import { type JsonValue, Queue, type QueueEvent, type QueueEventOf } from "sheppy";
import { describe, expectTypeOf, test } from "vitest";

const queue = new Queue("memory://");

describe("queue events", () => {
  test("checking `type` narrows the fields an event may carry", async () => {
    for await (const event of queue.events({ follow: false })) {
      expectTypeOf(event).toEqualTypeOf<QueueEvent>();
      // Readable on any event: absent where the type never carries it.
      expectTypeOf(event.error).toEqualTypeOf<
        { readonly type: string; readonly message: string } | undefined
      >();
      if (event.type === "completed") {
        expectTypeOf(event.result).toEqualTypeOf<JsonValue | undefined>();
        expectTypeOf(event.durationMs).toEqualTypeOf<number | undefined>();
        expectTypeOf(event.error).toEqualTypeOf<undefined>();
      }
      if (event.type === "failed") {
        expectTypeOf(event.error).toEqualTypeOf<
          { readonly type: string; readonly message: string } | undefined
        >();
        expectTypeOf(event.result).toEqualTypeOf<undefined>();
      }
      if (event.type === "progress") {
        expectTypeOf(event.logs).toEqualTypeOf<readonly string[] | undefined>();
        expectTypeOf(event.runAt).toEqualTypeOf<undefined>();
      }
    }
  });

  test("naming types narrows the events the loop is given", async () => {
    for await (const event of queue.events({ types: ["completed", "failed"], follow: false })) {
      expectTypeOf(event).toEqualTypeOf<QueueEventOf<"completed" | "failed">>();
      expectTypeOf(event.type).toEqualTypeOf<"completed" | "failed">();
    }
    // @ts-expect-error not an event type
    queue.events({ types: ["complete"] });
  });
});
