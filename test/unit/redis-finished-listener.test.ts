/**
 * The Redis finished listener keeps one subscription per channel for all its
 * listeners, and keeps it a while after the last one leaves, since callers
 * often wait again at once. Waiting for one task after another must not
 * leave a timer (holding the finished wait) behind per wait. A SUBSCRIBE
 * that goes unanswered fails within its own bound and leaves nothing behind,
 * and no listener is told it listens before the subscription holds.
 */
import { EventEmitter } from "node:events";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RedisClient } from "../../src/backends/redis/connections.js";
import { FinishedListener } from "../../src/backends/redis/finished-listener.js";

class FakeSubscriber extends EventEmitter {
  readonly subscribed: string[] = [];
  readonly unsubscribed: string[] = [];
  /** When set, SUBSCRIBE waits for the test to settle it. */
  hold: { answer?: () => void; fail?: (error: Error) => void } | undefined;
  async subscribe(channel: string): Promise<void> {
    this.subscribed.push(channel);
    const hold = this.hold;
    if (hold)
      await new Promise<void>((resolve, reject) => {
        hold.answer = resolve;
        hold.fail = reject;
      });
  }
  async unsubscribe(channel: string): Promise<void> {
    this.unsubscribed.push(channel);
  }
}

describe("redis finished listener", () => {
  let client: FakeSubscriber;
  let listener: FinishedListener;

  beforeEach(() => {
    vi.useFakeTimers();
    client = new FakeSubscriber();
    listener = new FinishedListener(() => client as unknown as RedisClient, 10_000);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("1,000 waits one after another: one subscription, one linger timer, unsubscribed 5 s after the last", async () => {
    const heard: string[][] = [];
    for (let i = 0; i < 1000; i++) {
      const stop = await listener.listen("done", (ids) => heard.push([...ids]));
      client.emit("message", "done", `t${i}`);
      stop();
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(1);
    }
    expect(heard).toHaveLength(1000);
    expect(heard[999]).toEqual(["t999"]);
    expect(client.subscribed).toEqual(["done"]);
    vi.advanceTimersByTime(4998);
    expect(client.unsubscribed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(client.unsubscribed).toEqual(["done"]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("a listener that comes back during the linger keeps the subscription; messages reach only current listeners", async () => {
    const first: string[] = [];
    const stopFirst = await listener.listen("done", (ids) => first.push(...ids));
    stopFirst();
    vi.advanceTimersByTime(3000);
    const second: string[] = [];
    const stopSecond = await listener.listen("done", (ids) => second.push(...ids));
    vi.advanceTimersByTime(3000);
    // The first linger ran out while someone listened: still subscribed.
    expect(client.unsubscribed).toEqual([]);
    client.emit("message", "done", "a,b");
    expect(first).toEqual([]);
    expect(second).toEqual(["a", "b"]);
    stopSecond();
    vi.advanceTimersByTime(4999);
    expect(client.unsubscribed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(client.unsubscribed).toEqual(["done"]);
    // Listening again subscribes again.
    await listener.listen("done", () => undefined);
    expect(client.subscribed).toEqual(["done", "done"]);
  });

  it("a SUBSCRIBE left unanswered fails as a timed-out command within its own bound, and the next listen subscribes afresh", async () => {
    client.hold = {};
    const first = listener.listen("done", () => undefined);
    const failed = expect(first).rejects.toThrow(/SUBSCRIBE done: Command timed out after 2000 ms/);
    vi.advanceTimersByTime(2000);
    await failed;
    client.hold = undefined;
    const heard: string[] = [];
    await listener.listen("done", (ids) => heard.push(...ids));
    expect(client.subscribed).toEqual(["done", "done"]);
    client.emit("message", "done", "a");
    expect(heard).toEqual(["a"]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("a second listener waits for the first one's SUBSCRIBE, and both fail when it fails", async () => {
    const hold: NonNullable<FakeSubscriber["hold"]> = {};
    client.hold = hold;
    let settled = 0;
    const one = listener.listen("done", () => undefined).finally(() => settled++);
    const two = listener.listen("done", () => undefined).finally(() => settled++);
    await vi.advanceTimersByTimeAsync(100);
    expect(settled).toBe(0);
    expect(client.subscribed).toEqual(["done"]);
    hold.fail?.(new Error("Connection is closed."));
    await expect(one).rejects.toThrow("Connection is closed.");
    await expect(two).rejects.toThrow("Connection is closed.");
    client.hold = undefined;
    await listener.listen("done", () => undefined);
    expect(client.subscribed).toEqual(["done", "done"]);
  });

  it("a short call bound gives each SUBSCRIBE a quarter of it, never less than 250 ms", async () => {
    for (const [bound, within] of [
      [400, 250],
      [4000, 1000],
    ] as const) {
      const short = new FinishedListener(() => client as unknown as RedisClient, bound);
      client.hold = {};
      const failed = expect(short.listen(`c${bound}`, () => undefined)).rejects.toThrow(
        `Command timed out after ${within} ms`,
      );
      vi.advanceTimersByTime(within);
      await failed;
    }
  });
});
