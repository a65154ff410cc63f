/**
 * While Redis cannot be reached, every call of a backend waits for its
 * connection to be ready again. Thousands may wait at once (a producer, 2,000
 * `waitFor`s): they share one listener on the client, so nothing piles up and
 * Node prints no listener-leak warning; each still gives up after its own
 * time, and all wake together when the connection is back.
 */
import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";
import { describe, expect, test } from "vitest";
import { untilClientReady } from "../../src/backends/redis/connections.js";

function fakeClient(): Redis & EventEmitter {
  return Object.assign(new EventEmitter(), { status: "reconnecting" }) as unknown as Redis &
    EventEmitter;
}

describe("waiting for a Redis connection", () => {
  test("2,000 waiters share one listener and all wake when the client is ready", async () => {
    const client = fakeClient();
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      const waits = Array.from({ length: 2000 }, () => untilClientReady(client, 60_000));
      expect(client.listenerCount("ready")).toBe(1);
      (client as unknown as { status: string }).status = "ready";
      client.emit("ready");
      await Promise.all(waits);
      expect(client.listenerCount("ready")).toBe(0);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });

  test("each waiter gives up after its own time; later waiters still wake when ready", async () => {
    const client = fakeClient();
    const started = Date.now();
    await untilClientReady(client, 30);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    const later = untilClientReady(client, 60_000);
    expect(client.listenerCount("ready")).toBe(1);
    (client as unknown as { status: string }).status = "ready";
    client.emit("ready");
    await later;
    await expect(untilClientReady(client, 60_000)).resolves.toBeUndefined();
  });

  test("a client that says ready while its socket can no longer be written is waited for", async () => {
    const client = Object.assign(fakeClient(), { stream: { writable: false } });
    (client as unknown as { status: string }).status = "ready";
    let woke = false;
    const waiting = untilClientReady(client, 60_000).then(() => {
      woke = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(woke).toBe(false);
    (client as unknown as { stream: { writable: boolean } }).stream = { writable: true };
    client.emit("ready");
    await waiting;
    expect(woke).toBe(true);
  });
});
