/**
 * The Redis finished listener keeps one subscription per channel for all its
 * listeners, and keeps it a while after the last one leaves, since callers
 * often wait again at once. Waiting for one task after another must not
 * leave a timer (holding the finished wait) behind per wait.
 */
import { EventEmitter } from "node:events";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RedisClient } from "../../src/backends/redis/connections.js";
import { FinishedListener } from "../../src/backends/redis/finished-listener.js";

class FakeSubscriber extends EventEmitter {
  readonly subscribed: string[] = [];
  readonly unsubscribed: string[] = [];
  async subscribe(channel: string): Promise<void> {
    this.subscribed.push(channel);
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
    listener = new FinishedListener(() => client as unknown as RedisClient);
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
});
