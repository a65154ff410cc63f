/**
 * The creation-time index on Redis, looked at in the keys: `{p:q}:ids` holds
 * exactly the queue's task ids, each scored by its record's creation time,
 * through every kind of write (chained tasks, retries, workflow steps and
 * resumes, deletes, the maxFinished bound, expiry, clear); one `listTasks`
 * call looks at no more than its budget; and the ids an earlier version kept
 * in the set `{p:q}:all` are moved into the index when a backend connects,
 * their records listed and filtered like any other.
 */
import { Redis } from "ioredis";
import { Queue, step, type TaskData, task, Worker, workflow } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { TestClock } from "sheppy/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { creationTimeOf } from "../../../src/backends/task-listing.js";
import { encodeCompactTaskData } from "../../../src/task/task-codec.js";
import { fileKey } from "../../support/isolation.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const prefix = fileKey(import.meta.url);
const available = await requireService("Redis", REDIS_URL);
const START = Date.parse("2030-01-01T00:00:00Z");

const double = task({ name: "creation-index.double" }, (n: number) => n * 2);
const chain = task({ name: "creation-index.chain" }, (n: number) => [double(n), double(n + 1)]);
const flaky = task({ name: "creation-index.flaky", retry: 1, retryDelay: 1 }, (): number => {
  throw new Error("always");
});
const pair = workflow({ name: "creation-index.pair" }, function* (n: number) {
  const a = yield* step(double(n));
  const b = yield* step(double(a.result!));
  return b.result;
});
const item = task({ name: "creation-index.item" }, (n: number) => n);

/** A pending record created at `at`. */
const created = (at: number, extra: Partial<TaskData> = {}): TaskData => ({
  ...item(at).toJSON(),
  status: "pending",
  createdAt: new Date(at).toISOString(),
  ...extra,
});

// Skipped only when Redis is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("redis: the creation-time index", () => {
  const raw = new Redis(REDIS_URL, { lazyConnect: true });
  const closing: (Queue | RedisBackend)[] = [];
  let counter = 0;

  const open = (options: ConstructorParameters<typeof RedisBackend>[0] = {}) => {
    const backend = new RedisBackend({ url: REDIS_URL, prefix, ...options });
    closing.push(backend);
    return backend;
  };
  const tagOf = (queue: string) => `{${prefix}:${queue}}`;
  const queueRegistry = () => `${prefix}:queues`;

  /** The task hashes of `queue`, by scanning the keyspace. */
  async function taskKeys(queue: string): Promise<string[]> {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, found] = await raw.scan(cursor, "MATCH", `${tagOf(queue)}:t:*`, "COUNT", 1000);
      keys.push(...found);
      cursor = next;
    } while (cursor !== "0");
    return keys;
  }

  /** Checks that the index holds exactly the queue's records, each at its creation time. */
  async function expectExactIndex(backend: RedisBackend, queue: string): Promise<number> {
    const tag = tagOf(queue);
    const members = await raw.zrange(`${tag}:ids`, 0, -1, "WITHSCORES");
    const scores = new Map<string, number>();
    for (let i = 0; i < members.length; i += 2) scores.set(members[i]!, Number(members[i + 1]));
    const hashes = (await taskKeys(queue)).map((key) => key.slice(`${tag}:t:`.length));
    expect(new Set(scores.keys())).toEqual(new Set(hashes));
    const records = await backend.getTasks(queue, hashes);
    for (const [id, record] of records) expect(scores.get(id), id).toBe(creationTimeOf(record));
    const listed: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await backend.listTasks(queue, { cursor, limit: 7 });
      listed.push(...page.tasks.map((t) => t.id));
      cursor = page.cursor;
    } while (cursor !== null);
    expect(listed).toHaveLength(records.size);
    expect(new Set(listed)).toEqual(new Set(records.keys()));
    return scores.size;
  }

  beforeAll(async () => {
    await raw.connect();
  });
  afterEach(async () => {
    await Promise.all(
      closing.splice(0).map((c) => (c instanceof Queue ? c.close() : c.disconnect())),
    );
  });
  afterAll(async () => {
    raw.disconnect();
    await deleteRedisPrefix(prefix);
  });

  it("holds exactly the queue's ids, at their creation times, through chains, retries, workflows, deletes, bounds, expiry and clear", async () => {
    const clock = new TestClock(START);
    const name = `index-${++counter}`;
    const backend = open({ clock, ttl: 60, errorTtl: 30, maxFinished: 6 });
    const queue = new Queue(backend, { name, clock });
    closing.push(queue);
    await queue.add([chain(1), chain(2), flaky(), double(5)]);
    await queue.addWorkflow(pair(3));
    const worker = new Worker(queue, { clock, claimWait: 0.05, schedulerInterval: 0.05 });
    await worker.work({ oneshot: true });
    expect(await expectExactIndex(backend, name)).toBeGreaterThan(5);

    await clock.advance(2);
    await new Worker(queue, { clock, claimWait: 0.05 }).work({ oneshot: true });
    await expectExactIndex(backend, name);
    const finished = (await queue.getAllTasks()).filter((t) => t.isFinished);
    expect(await queue.delete(finished[0]!)).toBe(true);
    await expectExactIndex(backend, name);

    await clock.advance(120);
    expect(await backend.pruneExpired(name, clock.now())).toBeGreaterThan(0);
    expect(await expectExactIndex(backend, name)).toBe(0);

    await queue.add([double(1), double(2)]);
    expect(await expectExactIndex(backend, name)).toBe(2);
    await queue.clear();
    expect(await raw.exists(`${tagOf(name)}:ids`)).toBe(0);
  });

  it("one call looks at no more than its budget: a rare status behind many others comes on a later page", async () => {
    const backend = open();
    await backend.connect();
    const name = `budget-${++counter}`;
    const base = Date.now() - 3_600_000;
    const rare = created(base);
    await backend.add(name, [rare]);
    const [claim] = await backend.claim(name, 1);
    await backend.settle(
      name,
      [
        {
          fence: claim!.fence,
          record: { ...claim!.record, status: "failed", finishedAt: new Date().toISOString() },
          children: [],
          expiresAt: null,
        },
      ],
      Date.now(),
    );
    await backend.add(
      name,
      Array.from({ length: 5001 }, (_, i) => created(base + 1 + i)),
    );
    const first = await backend.listTasks(name, { statuses: ["failed"] });
    expect(first.tasks).toEqual([]);
    expect(first.cursor).not.toBeNull();
    const second = await backend.listTasks(name, { statuses: ["failed"], cursor: first.cursor });
    expect(second.tasks.map((t) => t.id)).toEqual([rare.id]);
    expect(second.cursor).toBeNull();
    // Without a filter a page is full: the budget grows with the limit.
    expect((await backend.listTasks(name, { limit: 5002 })).tasks).toHaveLength(5002);
  });

  it("moves the ids an earlier version kept in a set into the index on connect, so its records are listed, filtered and cleared", async () => {
    const name = `legacy-${++counter}`;
    const tag = tagOf(name);
    const base = Date.now() - 3_600_000;
    // Written with this version, then turned back into the layout an earlier one left.
    const writer = open();
    await writer.connect();
    const records = Array.from({ length: 12 }, (_, i) => created(base + i * 1000));
    await writer.add(name, records.slice(0, 8));
    const claims = await writer.claim(name, 4);
    const now = Date.now();
    await writer.settle(
      name,
      claims.slice(0, 3).map((c, i) => ({
        fence: c.fence,
        record:
          i === 2
            ? {
                ...c.record,
                status: "retrying",
                nextRetryAt: new Date(now + 3_600_000).toISOString(),
              }
            : {
                ...c.record,
                status: i === 0 ? "completed" : "failed",
                finishedAt: new Date().toISOString(),
              },
        children: [],
        expiresAt: null,
      })),
      now,
    );
    await writer.add(name, [
      ...records.slice(8, 10),
      {
        ...records[10]!,
        status: "scheduled",
        scheduledAt: new Date(now + 3_600_000).toISOString(),
      },
      records[11]!,
    ]);
    await writer.cancel(name, records[11]!.id, { at: now, expiresAt: null });
    const stored = await writer.getTasks(
      name,
      records.map((r) => r.id),
    );
    const statuses = new Map([...stored].map(([id, r]) => [id, r.status]));
    await writer.disconnect();
    const ids = await raw.zrange(`${tag}:ids`, 0, -1);
    expect(ids).toHaveLength(12);
    await raw.del(`${tag}:ids`);
    await raw.sadd(`${tag}:all`, ...ids, "gone-record");
    // Earlier versions kept the whole record in the JSON (id, status and instants included),
    // and a status beside it only while claimed, promoted or cancelled.
    for (const id of ids) {
      await raw.hset(`${tag}:t:${id}`, "d", encodeCompactTaskData(stored.get(id)!));
      if (!["processing", "cancelled"].includes(statuses.get(id)!)) {
        await raw.hdel(`${tag}:t:${id}`, "status");
      }
    }
    const unreadable = "legacy-unreadable";
    await raw.hset(`${tag}:t:${unreadable}`, "d", "{not json");
    await raw.sadd(`${tag}:all`, unreadable);
    await raw.sadd(queueRegistry(), name);

    const logged: unknown[] = [];
    const logger = { debug() {}, warn() {}, error() {}, info: (o: unknown) => logged.push(o) };
    const backend = open({ logger });
    await backend.connect();
    expect(logged).toEqual([{ queue: name, moved: 13 }]);
    expect(await raw.exists(`${tag}:all`)).toBe(0);
    expect(await raw.zcard(`${tag}:ids`)).toBe(13);
    // The record that cannot be read counts as created at 0: listed last.
    expect(Number(await raw.zscore(`${tag}:ids`, unreadable))).toBe(0);

    const listed = await backend.listTasks(name, { limit: 5 });
    const all: string[] = [];
    let page = listed;
    for (;;) {
      all.push(...page.tasks.map((t) => t.id));
      if (page.cursor === null) break;
      page = await backend.listTasks(name, { limit: 5, cursor: page.cursor });
    }
    expect(all).toEqual([...records.map((r) => r.id)].reverse().concat(unreadable));
    for (const status of new Set([...statuses.values(), "failed" as const])) {
      const found = await backend.listTasks(name, { statuses: [status], limit: 100 });
      const expected = records
        .filter((r) => statuses.get(r.id) === status)
        .map((r) => r.id)
        .reverse();
      // The unreadable record reads as failed, and is filtered so.
      if (status === "failed") expected.push(unreadable);
      expect(
        found.tasks.map((t) => t.id),
        status,
      ).toEqual(expected);
    }

    // A second connect finds nothing left to move.
    logged.length = 0;
    const again = open({ logger });
    await again.connect();
    expect(logged).toEqual([]);

    // A process of an earlier version still writing: clear removes its records too.
    await raw.hset(`${tag}:t:late`, "d", JSON.stringify(created(base)));
    await raw.sadd(`${tag}:all`, "late");
    expect(await backend.clear(name)).toBe(14);
    expect(await taskKeys(name)).toEqual([]);
    expect(await raw.exists(`${tag}:all`)).toBe(0);
  });
});
