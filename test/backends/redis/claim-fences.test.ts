/**
 * The fences listed beside the processing index: every claim lists its task's
 * fence there (marked `r` when its settle must read the task's own fields),
 * with the claim's request token and the task's place in it, so a settle
 * checks the fences of a whole call in one read. The list holds only
 * claimed tasks, agrees with each task's own fence through takeovers, and
 * the settle still reads the task's fields whenever the list cannot stand in
 * for them: a concurrency key, fields left to remove, a takeover, or a claim
 * made by a version that kept no list.
 */
import { Redis } from "ioredis";
import { type TaskData, task } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll, describe, expect, it } from "vitest";
import type { ClaimedTask } from "../../../src/backends/backend.js";
import { queueKeys } from "../../../src/backends/redis/keys.js";
import { scriptSource } from "../../../src/backends/redis/scripts.js";
import { clearArgs, clearKeys } from "../../../src/backends/redis/task-store.js";
import { fileKey } from "../../support/isolation.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const prefix = fileKey(import.meta.url);
const available = await requireService("Redis", REDIS_URL);
const item = task({ name: "claim-fences.item" }, (n: number) => n);
const data = (n: number, extra: Partial<TaskData> = {}): TaskData => ({
  ...item(n).toJSON(),
  status: "pending",
  ...extra,
});
const completed = (claim: ClaimedTask): TaskData => ({
  ...claim.record,
  status: "completed",
  result: claim.record.args[0] ?? null,
  finishedAt: new Date().toISOString(),
});

// Skipped only when Redis is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("redis: fences listed beside the processing index", () => {
  const client = new Redis(REDIS_URL, { lazyConnect: true });
  const backends: RedisBackend[] = [];
  let queues = 0;
  const setup = async () => {
    const backend = new RedisBackend({ url: REDIS_URL, prefix });
    backends.push(backend);
    await backend.connect();
    const q = `q${++queues}`;
    const fences = `{${prefix}:${q}}:processing:fences`;
    const settle = (claim: ClaimedTask, record: TaskData = completed(claim)) =>
      backend
        .settle(q, [{ fence: claim.fence, record, children: [], expiresAt: null }], Date.now())
        .then(([result]) => result);
    return { backend, q, fences, settle, hash: (id: string) => `{${prefix}:${q}}:t:${id}` };
  };

  afterAll(async () => {
    await Promise.all(backends.map((b) => b.disconnect()));
    client.disconnect();
    await deleteRedisPrefix(prefix);
  });

  it("lists each claimed task's fence while it is claimed, and nothing once it is settled", async () => {
    const { backend, q, fences, settle } = await setup();
    await backend.add(q, [data(1), data(2), data(3)]);
    const claims = await backend.claim(q, 3);
    // `<fence>/<token>/<place>`: one request token for the whole claim, places in claim order.
    const listed = await client.hgetall(fences);
    expect(Object.keys(listed).sort()).toEqual(claims.map((c) => c.record.id).sort());
    const tokens = new Set<string>();
    claims.forEach((c, place) => {
      const [fence, token, at] = listed[c.record.id]!.split("/");
      expect([fence, at]).toEqual([String(c.fence), String(place)]);
      tokens.add(token!);
    });
    expect(tokens.size).toBe(1);
    for (const claim of claims) expect(await settle(claim)).toBe("settled");
    expect(await client.exists(fences)).toBe(0);
    // Sent again (a resend after a lost reply): answered settled, nothing written twice.
    expect(await settle(claims[0]!)).toBe("settled");
    expect((await backend.getStats(q)).completed).toBe(3);
  });

  it("a claim taken over is listed under the new fence: the old holder's settle is lost, the new one's lands", async () => {
    const { backend, q, fences, settle } = await setup();
    await backend.add(q, [data(4)]);
    const [first] = await backend.claim(q, 1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const [taken] = await backend.reclaimExpired(q, { leaseMs: 10, confirmMs: 0 });
    expect(taken!.fence).toBe(first!.fence + 1);
    // Listed without a request token: no lost claim's put-back takes it.
    expect(await client.hget(fences, first!.record.id)).toBe(`${taken!.fence}r`);
    expect(await settle(first!)).toBe("lost");
    expect(await client.hget(fences, first!.record.id)).toBe(`${taken!.fence}r`);
    expect(await settle(taken!)).toBe("settled");
    expect(await client.exists(fences)).toBe(0);
    expect((await backend.getTasks(q, [first!.record.id])).get(first!.record.id)?.status).toBe(
      "completed",
    );
  });

  it("a claim made by a version that listed no fence is settled from the task's own fields", async () => {
    const { backend, q, fences, settle } = await setup();
    await backend.add(q, [data(5), data(6)]);
    const [current, stale] = await backend.claim(q, 2);
    await client.del(fences);
    expect(await settle(current!)).toBe("settled");
    expect(await settle({ ...stale!, fence: stale!.fence + 1 })).toBe("lost");
    expect(await settle(stale!)).toBe("settled");
    const stored = await backend.getTasks(q, [current!.record.id, stale!.record.id]);
    expect([...stored.values()].map((r) => r.status)).toEqual(["completed", "completed"]);
    expect((await backend.getStats(q)).processing).toBe(0);
  });

  it("a task with a concurrency key is listed for a read, and its settle hands the key's slot on", async () => {
    const { backend, q, fences, settle } = await setup();
    const keyed = (n: number) => data(n, { concurrencyKey: "k", concurrencyLimit: 1 });
    await backend.add(q, [keyed(7), keyed(8)]);
    const [claim, none] = await backend.claim(q, 2);
    expect(none).toBeUndefined();
    expect(await client.hget(fences, claim!.record.id)).toMatch(
      new RegExp(`^${claim!.fence}r/.+/0$`),
    );
    expect(await settle(claim!)).toBe("settled");
    const [next] = await backend.claim(q, 2);
    expect(next!.record.args).toEqual([8]);
    expect(await settle(next!)).toBe("settled");
    expect(await client.exists(fences)).toBe(0);
  });

  it("a finish time or expiry left in a claimed task's hash is listed for a read and removed by its settle", async () => {
    const { backend, q, fences, settle, hash } = await setup();
    const d = data(9);
    await backend.add(q, [d]);
    await client.hset(hash(d.id), "finishedAt", new Date().toISOString(), "x", "99999999999999");
    const [claim] = await backend.claim(q, 1);
    expect(await client.hget(fences, d.id)).toMatch(new RegExp(`^${claim!.fence}r/.+/0$`));
    // Put back to wait: neither a finish time nor an expiry belongs to it.
    const waiting: TaskData = { ...claim!.record, status: "pending", startedAt: null };
    expect(await settle(claim!, waiting)).toBe("settled");
    expect(await client.hmget(hash(d.id), "finishedAt", "x", "startedAt")).toEqual([
      null,
      null,
      null,
    ]);
    expect((await backend.getTasks(q, [d.id])).get(d.id)).toMatchObject({
      status: "pending",
      startedAt: null,
      finishedAt: null,
    });
  });

  it("a settle that puts a task back without a start removes the start its claim wrote", async () => {
    const { backend, q, settle, hash } = await setup();
    const d = data(10);
    await backend.add(q, [d]);
    const [claim] = await backend.claim(q, 1);
    expect(await client.hget(hash(d.id), "startedAt")).not.toBeNull();
    expect(await settle(claim!, { ...claim!.record, status: "pending", startedAt: null })).toBe(
      "settled",
    );
    expect(await client.hget(hash(d.id), "startedAt")).toBeNull();
    const [again] = await backend.claim(q, 1);
    expect(again!.fence).toBe(claim!.fence + 1);
    expect(await settle(again!)).toBe("settled");
  });

  it("a claimed task deleted by a clear still under way is not written back by its holder's settle", async () => {
    const { backend, q, fences, settle, hash } = await setup();
    const records = [data(13), data(14), data(15)];
    await backend.add(q, records);
    const [claim] = await backend.claim(q, 1);
    expect(claim!.record.id).toBe(records[0]!.id);
    // One call of the clear, one record per call: it deletes the oldest record, the claimed one.
    const k = queueKeys(prefix, q);
    const keys = clearKeys(k);
    const [removed, finished] = (await client.eval(
      scriptSource("clear"),
      keys.length,
      ...keys,
      ...clearArgs(k, 1),
    )) as [number, number];
    expect([removed, finished]).toEqual([1, 0]);
    expect(await client.exists(hash(claim!.record.id))).toBe(0);
    expect(await client.hexists(fences, claim!.record.id)).toBe(0);
    expect(await settle(claim!)).toBe("lost");
    expect(await client.exists(hash(claim!.record.id))).toBe(0);
    await backend.clear(q);
    expect(await client.keys(`{${prefix}:${q}}*`)).toEqual(
      expect.not.arrayContaining([hash(claim!.record.id)]),
    );
  });

  it("clearing the queue removes the list with the claims", async () => {
    const { backend, q, fences } = await setup();
    await backend.add(q, [data(11), data(12)]);
    await backend.claim(q, 2);
    expect(await client.hlen(fences)).toBe(2);
    await backend.clear(q);
    expect(await client.exists(fences)).toBe(0);
  });
});
