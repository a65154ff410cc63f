/**
 * The event log on Redis across processes: a listener in this process reads,
 * in order (through readEvents and through queue.events()), every lifecycle
 * event of 1,000 tasks run by two worker processes — each task added → started → completed, nothing missing, nothing
 * twice — and a listener stopped mid-run that resumes after the last id it
 * saw misses nothing. The log never reads as more than its cap, during a
 * run or after, and its stream holds few entries (one per write). And what is Redis's own: a waiting read is woken by an
 * append, several wait side by side, disconnect() ends them at once, and
 * connections killed again and again (a private server) cost a listener
 * neither an event nor a repeat.
 */
import type { ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { pino } from "pino";
import { InvalidOptionError, Queue, Worker } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll, describe, expect, it } from "vitest";
import type { StoredEvent } from "../../../src/backends/backend.js";
import { splitRedisUrl } from "../../../src/backends/redis/redis-url.js";
import { eventBody, readEvent, readEventPage } from "../../../src/task/lifecycle-event.js";
import type { TaskData } from "../../../src/task/task-record.js";
import { logged } from "../../fixtures/redis-event-log-tasks.js";
import { fileKey } from "../../support/isolation.js";
import { PrivateRedis } from "../../support/private-redis.js";
import { exited, startWorkerProcesses } from "../../support/processes.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const prefix = fileKey(import.meta.url);
const available = await requireService("Redis", REDIS_URL);
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  await Promise.all(children.map((child) => exited(child)));
  if (available) await deleteRedisPrefix(prefix);
});

const backendWith = (eventCap?: number) =>
  new RedisBackend({
    url: REDIS_URL,
    prefix,
    ...(eventCap === undefined ? {} : { eventCap }),
  });

/** Adds `n` tasks through the backend with their `added` events (what `queue.add` hands it). */
async function addTasks(backend: RedisBackend, queue: string, n: number): Promise<TaskData[]> {
  const now = Date.now();
  const records = Array.from(
    { length: n },
    (_, i): TaskData => ({ ...logged(i).toJSON(), status: "pending" }),
  );
  for (let i = 0; i < records.length; i += 250) {
    const batch = records.slice(i, i + 250);
    const added = await backend.add(queue, batch, "unique", {
      events: batch.map((r) => eventBody("added", r, now)),
    });
    expect(added.every(Boolean)).toBe(true);
  }
  return records;
}

/** Reads the log from after `after` until `stop` says so or `ms` pass; returns what it read. */
async function listen(
  backend: RedisBackend,
  queue: string,
  after: string | null,
  stop: (seen: readonly StoredEvent[]) => boolean,
  ms: number,
): Promise<StoredEvent[]> {
  const seen: StoredEvent[] = [];
  let last = after;
  const deadline = Date.now() + ms;
  while (!stop(seen) && Date.now() < deadline) {
    const batch = await backend.readEvents(queue, { after: last, limit: 200, waitMs: 500 });
    seen.push(...batch);
    if (batch.length > 0) last = batch[batch.length - 1]!.id;
  }
  return seen;
}

/** Orders stream ids as Redis does: by time, then sequence. */
function compareIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split("-").map(BigInt) as [bigint, bigint];
  return am === bm ? Number(as - bs) : am < bm ? -1 : 1;
}

describe.skipIf(!available)("redis: the event log", () => {
  it("a listener receives, in order, every event of 1,000 tasks run by 2 worker processes; one restarted mid-run misses nothing", {
    timeout: 120_000,
  }, async () => {
    const TASKS = 1000;
    const name = "across";
    const backend = backendWith();
    const queue = new Queue(backend, { name });
    const late = backendWith();
    const redis = new Redis(REDIS_URL);
    try {
      await queue.connect();
      await late.connect();
      // Held until both workers are up, so one process does not run the whole queue alone.
      await queue.pause();
      const records = Array.from({ length: TASKS }, (_, i) => logged(i));
      for (let i = 0; i < TASKS; i += 250)
        expect((await queue.add(records.slice(i, i + 250))).every(Boolean)).toBe(true);
      const { children: mine, output } = await startWorkerProcesses(
        "test/fixtures/redis-event-log-worker.ts",
        {
          TEST_REDIS_URL: REDIS_URL,
          TEST_PREFIX: prefix,
          TEST_QUEUE: name,
          TEST_CONCURRENCY: "10",
        },
        2,
        children,
      );
      await queue.resume();

      const total = TASKS * 3;
      const all = listen(backend, name, null, (seen) => seen.length >= total, 90_000);
      // A third listener as users write one: queue.events() on a queue of its own.
      const watcher = new Queue(backendWith(), { name });
      const stop = new AbortController();
      const watched = (async () => {
        const ids: string[] = [];
        const timer = setTimeout(() => stop.abort(), 90_000);
        for await (const event of watcher.events({ after: "start", signal: stop.signal })) {
          ids.push(event.id);
          if (ids.length >= total) break;
        }
        clearTimeout(timer);
        await watcher.close();
        return ids;
      })();
      // The second listener stops after its first 500 events and resumes, on a new
      // connection, from the last id it saw, once the workers have moved well past it.
      const first = await listen(late, name, null, (seen) => seen.length >= 500, 90_000);
      await late.disconnect();
      const stoppedAt = first[first.length - 1]!.id;
      while (
        (await queue.backend.readEvents(name, { after: stoppedAt, limit: 600 })).length < 600
      ) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const resumed = backendWith();
      await resumed.connect();
      const rest = await listen(
        resumed,
        name,
        stoppedAt,
        (seen) => first.length + seen.length >= total,
        90_000,
      );
      await resumed.disconnect();
      const heard = await all;

      expect(heard.length, output()).toBe(total);
      const ids = heard.map((e) => e.id);
      expect(new Set(ids).size).toBe(total);
      expect([...ids].sort(compareIds)).toEqual(ids);
      const byTask = new Map<string, string[]>();
      for (const event of readEventPage(name, heard)) {
        expect(event.attempt, JSON.stringify(event)).toBe(1);
        byTask.set(event.taskId, [...(byTask.get(event.taskId) ?? []), event.type]);
      }
      expect(byTask.size).toBe(TASKS);
      const wrong = records
        .map((r) => [r.id, byTask.get(r.id)?.join(",")] as const)
        .filter(([, types]) => types !== "added,started,completed");
      expect(wrong).toEqual([]);
      // The restarted listener, and queue.events(), heard exactly what the first did.
      expect([...first, ...rest]).toEqual(heard);
      expect(await watched).toEqual(ids);

      for (const child of mine) child.kill("SIGTERM");
      expect(await Promise.all(mine.map((child) => exited(child))), output()).toEqual([0, 0]);
    } finally {
      redis.disconnect();
      await late.disconnect();
      await queue.close();
    }
  });

  it("with eventCap 100 the log never reads as more than 100 events while 1,000 tasks run", async () => {
    const name = "capped";
    const backend = backendWith(100);
    const queue = new Queue(backend, { name });
    const redis = new Redis(REDIS_URL);
    const key = `{${prefix}:${name}}:events`;
    let most = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        if (backend.isConnected) {
          const readable = await backend.readEvents(name, { after: null, limit: 1000 });
          most = Math.max(most, readable.length);
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    try {
      await queue.connect();
      const records = await addTasks(backend, name, 1000);
      const worker = new Worker(queue, { concurrency: 20 });
      const working = worker.work();
      await queue.waitFor(
        records.map((r) => r.id),
        { timeout: 60 },
      );
      await worker.close();
      await working;
      sampling = false;
      await sampler;
      expect(most).toBeGreaterThan(0);
      expect(most).toBeLessThanOrEqual(100);
      // Each write's events are one entry: far fewer entries than the events they hold.
      expect(await redis.xlen(key)).toBeLessThan(100);
      const kept = await backend.readEvents(name, { after: null, limit: 1000 });
      expect(kept).toHaveLength(100);
      expect(kept[kept.length - 1]!.id).toBe(await backend.lastEventId(name));
      expect(readEvent(name, kept[99]!.id, kept[99]!.body).type).toBe("completed");
    } finally {
      sampling = false;
      await sampler;
      redis.disconnect();
      await queue.close();
    }
  });

  it("waiting reads: woken by an append, several side by side, ended at once by disconnect()", async () => {
    const backend = backendWith();
    await backend.connect();
    try {
      const after = await backend.lastEventId("waits");
      const started = Date.now();
      const waiting = [1, 2, 3].map(() =>
        backend.readEvents("waits", { after, limit: 10, waitMs: 30_000 }),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      await backend.appendEvents("waits", ['{"n":1}', '{"n":2}']);
      for (const read of await Promise.all(waiting)) {
        expect(read.map((e) => e.body)).toEqual(['{"n":1}', '{"n":2}']);
      }
      // Woken by the append, long before the reads' own 30 s would run out.
      expect(Date.now() - started).toBeLessThan(10_000);

      const last = await backend.lastEventId("waits");
      const parked = [1, 2].map(() =>
        backend.readEvents("waits", { after: last, limit: 10, waitMs: 30_000 }),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      const stopping = Date.now();
      await backend.disconnect();
      expect(await Promise.all(parked)).toEqual([[], []]);
      expect(Date.now() - stopping).toBeLessThan(10_000);
    } finally {
      await backend.disconnect();
    }
  });

  it("positions: a malformed one is an InvalidOptionError naming it; an old one reads from the oldest kept", async () => {
    const backend = backendWith(3);
    await backend.connect();
    try {
      for (const after of ["abc", "1-", "-1", "1-2-3", "99999999999999999999999-0"]) {
        await expect(backend.readEvents("positions", { after, limit: 1 })).rejects.toThrow(
          InvalidOptionError,
        );
      }
      await expect(backend.readEvents("positions", { after: "abc", limit: 1 })).rejects.toThrow(
        /"abc"/,
      );
      await backend.appendEvents("positions", ["a", "b", "c", "d", "e"]);
      const read = await backend.readEvents("positions", { after: "0-1", limit: 10 });
      expect(read.map((e) => e.body)).toEqual(["c", "d", "e"]);
      expect(await backend.readEvents("positions", { after: read[2]!.id, limit: 10 })).toEqual([]);
    } finally {
      await backend.disconnect();
    }
  });

  it("eventCap 0 (an option, or ?eventCap=0 in a URL) appends nothing; clear() empties the log and never reuses a position", async () => {
    const off = backendWith(0);
    const on = backendWith();
    const redis = new Redis(REDIS_URL);
    try {
      expect(off.eventCap).toBe(0);
      expect(on.eventCap).toBe(10_000);
      expect(splitRedisUrl(new URL(`${REDIS_URL}?eventCap=0&prefix=p`))).toEqual({
        url: `${REDIS_URL}`,
        prefix: "p",
        eventCap: 0,
      });
      expect(() => splitRedisUrl(new URL(`${REDIS_URL}?eventCap=-1`))).toThrow(
        "backend URL parameter eventCap must be a whole number ≥ 0, 0 turning the event log off (got '-1')",
      );
      await off.connect();
      await on.connect();
      const [record] = await addTasks(off, "off", 1);
      await off.appendEvents("off", ["x"]);
      expect(await redis.exists(`{${prefix}:off}:events`)).toBe(0);
      expect(await off.readEvents("off", { after: null, limit: 10, waitMs: 50 })).toEqual([]);
      expect(await off.lastEventId("off")).toBeNull();
      expect(
        await off.cancel("off", record!.id, { at: Date.now(), expiresAt: null, event: "c" }),
      ).not.toBeNull();
      expect(await redis.exists(`{${prefix}:off}:events`)).toBe(0);

      await addTasks(on, "cleared", 2);
      expect(await on.readEvents("cleared", { after: null, limit: 10 })).toHaveLength(2);
      const old = await on.lastEventId("cleared");
      await on.clear("cleared");
      expect(await redis.xlen(`{${prefix}:cleared}:events`)).toBe(0);
      expect(await on.lastEventId("cleared")).toBeNull();
      // The emptied stream remembers its last id: the next entry comes after every cleared one.
      await on.appendEvents("cleared", ["next"]);
      const [next] = await on.readEvents("cleared", { after: old, limit: 10 });
      expect(next?.body).toBe("next");
    } finally {
      redis.disconnect();
      await off.disconnect();
      await on.disconnect();
    }
  });

  it("a stream that is gone (an earlier version's clear deleted it): a saved position still waits and hears the next event; one ahead of the clock is refused", async () => {
    const backend = backendWith();
    const redis = new Redis(REDIS_URL);
    try {
      await backend.connect();
      await addTasks(backend, "deleted-stream", 2);
      const saved = await backend.lastEventId("deleted-stream");
      expect(saved).not.toBeNull();
      // A log's positions share the millisecond it started in: started again within that same
      // millisecond (only a test is that quick) it would number from there once more.
      await new Promise((resolve) => setTimeout(resolve, 5));
      await redis.del(`{${prefix}:deleted-stream}:events`, `{${prefix}:deleted-stream}:events:at`);
      expect(await backend.readEvents("deleted-stream", { after: saved, limit: 10 })).toEqual([]);
      await backend.appendEvents("deleted-stream", ["next"]);
      const [next] = await backend.readEvents("deleted-stream", { after: saved, limit: 10 });
      expect(next?.body).toBe("next");
      // A queue that never appended: a position of the past waits; one of the future never comes.
      expect(await backend.readEvents("never-appended", { after: "1-0", limit: 10 })).toEqual([]);
      const future = `${Date.now() + 86_400_000}-0`;
      await expect(
        backend.readEvents("never-appended", { after: future, limit: 10 }),
      ).rejects.toThrow(/past the newest this log has given \(none yet\)/);
    } finally {
      redis.disconnect();
      await backend.disconnect();
    }
  });

  it("a stream an earlier version wrote (one entry per event) keeps its ids; new events follow them and the cap trims across both", async () => {
    const name = "earlier";
    const backend = backendWith(4);
    const redis = new Redis(REDIS_URL);
    const key = `{${prefix}:${name}}:events`;
    try {
      await backend.connect();
      const earlier: string[] = [];
      for (const body of ["a", "b", "c", "d", "e"])
        earlier.push((await redis.xadd(key, "*", "b", body))!);
      const read = async (after: string | null = null) =>
        (await backend.readEvents(name, { after, limit: 100 })).map((e) => [e.id, e.body]);
      await backend.appendEvents(name, ["f", "g"]);
      const afterFirst = await read();
      expect(afterFirst.map(([, body]) => body)).toEqual(["d", "e", "f", "g"]);
      expect(afterFirst.slice(0, 2).map(([id]) => id)).toEqual(earlier.slice(3));
      const [f, g] = afterFirst.slice(2).map(([id]) => id!);
      expect(compareIds(earlier[4]!, f!)).toBeLessThan(0);
      expect(g).toBe(`${f!.split("-")[0]}-${Number(f!.split("-")[1]) + 1}`);
      expect(await read(earlier[4]!)).toEqual(afterFirst.slice(2));
      await backend.appendEvents(name, ["h", "i", "j"]);
      // f is trimmed though its entry stays for g: read from the start, from before f, or from f.
      const window = await read();
      expect(window.map(([, body]) => body)).toEqual(["g", "h", "i", "j"]);
      expect(await read(earlier[4]!)).toEqual(window);
      expect(await read(f!)).toEqual(window);
      expect(await read(g!)).toEqual(window.slice(1));
      expect(await backend.lastEventId(name)).toBe(window[3]![0]);
      expect(await redis.xlen(key)).toBe(2);
      // A process of the earlier version appends meanwhile (a rolling upgrade): its id comes from
      // the clock and may take the next position of the numbering. Later writes still succeed,
      // on a fresh numbering above it; events read once each, in order, the newest kept, and the
      // cap holds roughly (its entries count as one event each) until they are trimmed.
      const late = (await redis.xadd(key, "*", "b", "late"))!;
      await backend.appendEvents(name, ["k", "l"]);
      await redis.xadd(key, "*", "b", "later");
      await backend.appendEvents(name, ["m"]);
      const all = await backend.readEvents(name, { after: null, limit: 100 });
      expect(all.map((e) => e.body)).toEqual(["late", "k", "l", "later", "m"]);
      const ids = all.map((e) => e.id);
      expect([...ids].sort(compareIds)).toEqual(ids);
      expect(new Set(ids).size).toBe(ids.length);
      expect((await read(late)).map(([, body]) => body)).toEqual(["k", "l", "later", "m"]);
      expect(await backend.lastEventId(name)).toBe(ids[ids.length - 1]);
    } finally {
      redis.disconnect();
      await backend.disconnect();
    }
  });

  it("a log key holding something else (written by hand) drops the events, never the writes they describe", async () => {
    const name = "damaged";
    const backend = backendWith();
    const queue = new Queue(backend, { name });
    const redis = new Redis(REDIS_URL);
    try {
      await queue.connect();
      await redis.set(`{${prefix}:${name}}:events`, "not a stream");
      const [ran, waiting] = [logged(1), logged(2)];
      expect(await queue.add([ran, waiting])).toEqual([true, true]);
      expect(await queue.cancel(waiting)).toBeTruthy();
      await new Worker(queue, { concurrency: 1 }).work({ maxTasks: 1 });
      expect((await queue.getTask(ran))?.status).toBe("completed");
      expect((await queue.getTask(waiting))?.status).toBe("cancelled");
      await backend.appendEvents(name, ["x"]);
      expect(await redis.get(`{${prefix}:${name}}:events`)).toBe("not a stream");
      // The same for the log's numbering hash.
      const other = new Queue(backend, { name: `${name}-at` });
      await redis.set(`{${prefix}:${name}-at}:events:at`, "not a hash");
      const kept = logged(3);
      expect(await other.add(kept)).toBe(true);
      expect((await other.getTask(kept))?.status).toBe("pending");
      await backend.appendEvents(`${name}-at`, ["x"]);
      expect(await redis.get(`{${prefix}:${name}-at}:events:at`)).toBe("not a hash");
      expect(await redis.exists(`{${prefix}:${name}-at}:events`)).toBe(0);
    } finally {
      redis.disconnect();
      await queue.close();
    }
  });

  it("connections killed every 150 ms: a waiting listener hears every append once, in order", async () => {
    const server = await PrivateRedis.start();
    const quiet = pino({ level: "silent" });
    const writer = new RedisBackend({ url: server.url, prefix, logger: quiet });
    const reader = new RedisBackend({ url: server.url, prefix, logger: quiet });
    const admin = new Redis(server.url);
    let killing = true;
    const killer = (async () => {
      while (killing) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        await admin.client("KILL", "TYPE", "normal", "SKIPME", "yes").catch(() => undefined);
      }
    })();
    try {
      await writer.connect();
      await reader.connect();
      const heard: StoredEvent[] = [];
      let writing = true;
      const listening = (async () => {
        let after: string | null = null;
        while (writing || (await reader.readEvents("killed", { after, limit: 1 })).length > 0) {
          const batch = await reader.readEvents("killed", { after, limit: 50, waitMs: 300 });
          heard.push(...batch);
          if (batch.length > 0) after = batch[batch.length - 1]!.id;
        }
      })();
      let appended = 0;
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline) {
        // An append the connection loss failed for good is not retried: whatever it did is in the log.
        await writer.appendEvents("killed", [`{"n":${appended}}`]).catch(() => undefined);
        appended++;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      writing = false;
      await listening;
      const log = await reader.readEvents("killed", { after: null, limit: 10_000 });
      expect(heard).toEqual(log);
      const bodies = log.map((e) => e.body);
      expect(new Set(bodies).size).toBe(bodies.length);
      expect(bodies.length).toBeGreaterThan(appended / 2);
    } finally {
      killing = false;
      await killer;
      admin.disconnect();
      await writer.disconnect();
      await reader.disconnect();
      await server.destroy();
    }
  });
});
