/**
 * A reschedule on Redis reads the stored record, checks it in the client,
 * then writes in a script that finds the stored JSON still the one read. A
 * change that lands between the read and the script — a claim settled as a
 * retry, a debounced replacement — makes the script write nothing: the
 * client's check alone would have let the stale move through.
 */
import { Redis } from "ioredis";
import { task } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { rescheduledRecord } from "../../../src/queue/reschedule-api.js";
import { fileKey } from "../../support/isolation.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const prefix = fileKey(import.meta.url);
const available = await requireService("Redis", REDIS_URL);
const echo = task({ name: "reschedule-race.echo" }, (label: string) => label);
const HOUR = 3_600_000;

describe.skipIf(!available)("reschedule on Redis, raced between its read and its write", () => {
  const backends: RedisBackend[] = [];
  const open = async () => {
    const backend = new RedisBackend({ url: REDIS_URL, prefix });
    backends.push(backend);
    await backend.connect();
    return backend;
  };

  afterEach(() => {
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    await Promise.all(backends.map((b) => b.disconnect()));
    await deleteRedisPrefix(prefix);
  });

  /** Runs `change` right after the reschedule's read of the record, before its script. */
  const betweenReadAndWrite = (change: () => Promise<unknown>) => {
    const hmget = Redis.prototype.hmget;
    vi.spyOn(Redis.prototype, "hmget").mockImplementationOnce(async function (
      this: Redis,
      ...args: unknown[]
    ) {
      const row = await (hmget as (...a: unknown[]) => Promise<unknown>).apply(this, args);
      await change();
      return row;
    } as never);
  };

  it("a scheduled task replaced under its id with other arguments in between keeps them, unmoved", async () => {
    const [backend, other] = [await open(), await open()];
    const q = "stale-read";
    const t = { ...echo("v1").toJSON(), status: "scheduled" as const };
    const at = new Date(Date.now() + HOUR).toISOString();
    await backend.add(q, [{ ...t, scheduledAt: at }]);
    const read = (await backend.getTasks(q, [t.id])).get(t.id)!;
    // Replaced under the same id with other arguments (a debounced add does this).
    betweenReadAndWrite(() =>
      other.add(q, [{ ...read, args: ["v2"], createdAt: new Date().toISOString() }], "replace"),
    );
    expect(await backend.reschedule(q, read, rescheduledRecord(read, Date.now(), Date.now()))).toBe(
      false,
    );
    const stored = (await backend.getTasks(q, [t.id])).get(t.id)!;
    expect([stored.status, stored.args]).toEqual(["scheduled", ["v2"]]);
  });

  it("a task claimed and settled as a retry in between stays the retry that was written", async () => {
    const [backend, other] = [await open(), await open()];
    const q = "claimed-between";
    const t = { ...echo("raced").toJSON(), status: "pending" as const };
    await backend.add(q, [t]);
    const read = (await backend.getTasks(q, [t.id])).get(t.id)!;
    betweenReadAndWrite(async () => {
      const [claim] = await other.claim(q, 1, 50);
      const retry = {
        ...claim!.record,
        status: "retrying" as const,
        retryCount: 1,
        nextRetryAt: new Date(Date.now() + HOUR).toISOString(),
      };
      await other.settle(
        q,
        [{ fence: claim!.fence, record: retry, children: [], expiresAt: null }],
        Date.now(),
      );
    });
    expect(
      await backend.reschedule(q, read, rescheduledRecord(read, Date.now(), Date.now() + 2 * HOUR)),
    ).toBe(false);
    const stored = (await backend.getTasks(q, [t.id])).get(t.id)!;
    expect([stored.status, stored.retryCount, stored.scheduledAt]).toEqual(["retrying", 1, null]);
  });
});
