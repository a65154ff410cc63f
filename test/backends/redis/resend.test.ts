/**
 * A command whose reply is lost to a dropped connection is sent again. The
 * scripts that must not act twice recognise the resend by its request token
 * and answer as the first time: no acknowledged add is lost — nor reported
 * as a duplicate of itself. A claim is not sent again: the next claim names
 * the one whose answer was lost, and what that one took is put back first.
 */
import { Redis } from "ioredis";
import { task } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import {
  encodeKeyedRecord,
  KEYED_RECORD_VERSION,
} from "../../../src/backends/redis/record-codec.js";
import { scriptSource } from "../../../src/backends/redis/scripts.js";
import { fileKey } from "../../support/isolation.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const prefix = fileKey(import.meta.url);
const available = await requireService("Redis", REDIS_URL);
const job = task({ name: "resend.job" }, (n: number) => n);

// Skipped only when Redis is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("redis: a resent call replays its first answer", () => {
  const client = new Redis(REDIS_URL);
  const tag = `{${prefix}:resend}`;
  const keys = [
    "ids",
    "pending",
    "wake",
    "scheduled",
    "processing",
    "done",
    "counts",
    "expires",
    "events",
  ].map((k) => `${tag}:${k}`);

  afterAll(async () => {
    client.disconnect();
    await deleteRedisPrefix(prefix);
  });

  /** Adds `records` as claimable with the add script, under request token `token`. */
  const addPending = (
    token: string,
    records: readonly { id: string; createdAt: string; status: string }[],
  ) =>
    client.eval(
      scriptSource("add"),
      keys.length,
      ...keys,
      `${tag}:t:`,
      "unique",
      token,
      0,
      ...records.flatMap((r) => [
        r.id,
        JSON.stringify(r),
        "p",
        "",
        Date.parse(r.createdAt),
        r.status,
        0,
        "",
        "",
      ]),
    );
  /** One claim of up to `limit` tasks under `token`, naming earlier claims whose answer was lost. */
  const claim = (token: string, limit: number, ...unanswered: string[]) =>
    client
      .eval(
        scriptSource("claim"),
        6,
        `${tag}:pending`,
        `${tag}:processing`,
        `${tag}:wake`,
        `${tag}:paused`,
        `${tag}:cap`,
        `${tag}:records`,
        `${tag}:t:`,
        limit,
        new Date().toISOString(),
        token,
        0,
        KEYED_RECORD_VERSION,
        // No lease told: a reclaimer goes by its own.
        "",
        ...unanswered,
      )
      .then((reply) => (reply as string[]).slice(1));

  it("add: the same call twice answers true twice and queues once; another call is a duplicate", async () => {
    const record = { ...job(1).toJSON(), status: "pending" };
    const call = (token: string) => addPending(token, [record]);
    expect(await call("token-a")).toEqual([1]);
    expect(await call("token-a")).toEqual([1]);
    expect(await call("token-b")).toEqual([0]);
    expect(await client.llen(`${tag}:pending`)).toBe(1);
  });

  it("claim: a claim whose answer was lost is put back by the next, which claims those tasks first under new fences", async () => {
    await client.del(`${tag}:pending`, `${tag}:processing`);
    const records = [job(2), job(3), job(4), job(5)].map((t) => ({
      ...t.toJSON(),
      status: "pending",
    }));
    await addPending("token-add-2", records);
    const ids = (flat: string[]) => flat.filter((_, i) => i % 4 === 0);
    const fences = (flat: string[]) => flat.filter((_, i) => i % 4 === 2).map(Number);
    // Claim A's answer is "lost": nobody runs its two tasks.
    const lost = await claim("claim-a", 2);
    expect(ids(lost)).toEqual([records[0]!.id, records[1]!.id]);
    // The next claim asks for fewer than A took: A's tasks come back first, in their order, the rest stays claimable.
    const next = await claim("claim-b", 1, "claim-a");
    expect(ids(next)).toEqual([records[0]!.id]);
    // A new fence: one the queue's counter never gave before, so above both of A's.
    expect(fences(next)[0]!).toBeGreaterThan(Math.max(...fences(lost)));
    expect(await client.zcard(`${tag}:processing`)).toBe(1);
    // Put back and waiting again: no longer listed among the claims' fences.
    expect(await client.hexists(`${tag}:processing:fences`, records[1]!.id)).toBe(0);
    expect(await client.lrange(`${tag}:pending`, 0, -1)).toEqual([
      records[1]!.id,
      records[2]!.id,
      records[3]!.id,
    ]);
    // Naming an answered claim again (or one that claimed nothing) changes nothing.
    const after = await claim("claim-c", 3, "claim-a", "claim-never-sent");
    expect(ids(after)).toEqual([records[1]!.id, records[2]!.id, records[3]!.id]);
    expect(await client.zcard(`${tag}:processing`)).toBe(4);
    expect(await client.llen(`${tag}:pending`)).toBe(0);
  });

  it("claim: a lost claim taken over meanwhile by a reclaim is left to its new holder", async () => {
    await client.del(`${tag}:pending`, `${tag}:processing`, `${tag}:suspects`);
    const record = { ...job(6).toJSON(), status: "pending" };
    await addPending("token-add-3", [record]);
    await claim("claim-d", 1);
    // Its lease ran out and another worker took it over (no confirmation window here).
    await client.zadd(`${tag}:processing`, 0, record.id);
    const taken = (await client.eval(
      scriptSource("reclaim"),
      3,
      `${tag}:processing`,
      `${tag}:suspects`,
      `${tag}:records`,
      `${tag}:t:`,
      1000,
      0,
      10,
      KEYED_RECORD_VERSION,
    )) as string[];
    // First whether the batch was full, then the claims taken over.
    expect(taken.slice(0, 2)).toEqual(["0", record.id]);
    expect(await claim("claim-e", 1, "claim-d")).toEqual([]);
    expect(await client.zscore(`${tag}:processing`, record.id)).not.toBeNull();
  });

  it("addDeduplicated: the same call twice answers 'added' twice and adds once; another call is ignored", async () => {
    const record = { ...job(7).toJSON(), status: "pending" as const, dedupeKey: "k" };
    const call = (memo: string) =>
      client.eval(
        scriptSource("addDeduplicated"),
        10,
        ...[
          "ids",
          "pending",
          "wake",
          "scheduled",
          "processing",
          "done",
          "dedupe",
          "dedupe:check",
        ].map((k) => `${tag}:${k}`),
        `${tag}:req:${memo}`,
        `${tag}:events`,
        `${tag}:t:`,
        Date.now(),
        0,
        "k",
        "ignore",
        "",
        record.id,
        encodeKeyedRecord(record),
        "p",
        "",
        Date.parse(record.createdAt),
        record.status,
        0,
        "",
      );
    expect(await call("dd-1")).toEqual(["added", record.id]);
    expect(await call("dd-1")).toEqual(["added", record.id]);
    expect(await call("dd-2")).toEqual(["ignored", record.id]);
    expect(await client.zscore(`${tag}:ids`, record.id)).not.toBeNull();
    expect(await client.hget(`${tag}:dedupe`, "k")).toBe(`:${record.id}`);
  });

  it("retryWorkflow: the same call twice answers 1 twice and adds its task once; another call finds it running", async () => {
    await client.del(`${tag}:pending`);
    const failedAt = new Date().toISOString();
    await client.hset(
      `${tag}:w:wf-1`,
      "d",
      "{}",
      "st",
      "failed",
      "fa",
      failedAt,
      "rq",
      "add-token",
    );
    // The failed run's step, finished: a retry that asks for it again deletes its record.
    await client.hset(`${tag}:t:old-step`, "d", "{}", "status", "failed");
    await client.hset(`${tag}:done`, "old-step", "failed");
    const again = { ...job(8).toJSON(), status: "pending" as const };
    const call = (token: string) =>
      client.eval(
        scriptSource("retryWorkflow"),
        9,
        ...[
          "ids",
          "pending",
          "wake",
          "workflows:running",
          "workflows:expires",
          "events",
          "done",
          "counts",
          "expires",
        ].map((k) => `${tag}:${k}`),
        `${tag}:t:`,
        `${tag}:w:`,
        `${tag}:wp:`,
        token,
        "wf-1",
        JSON.stringify({ id: "wf-1", status: "running" }),
        1,
        failedAt,
        0,
        0,
        0,
        1,
        "old-step",
        again.id,
        encodeKeyedRecord(again),
        Date.parse(again.createdAt),
        again.status,
        0,
        "",
      );
    expect(await call("retry-1")).toBe(1);
    expect(await call("retry-1")).toBe(1);
    expect(await call("retry-2")).toBe(0);
    expect(await client.lrange(`${tag}:pending`, 0, -1)).toEqual([again.id]);
    expect(await client.hget(`${tag}:w:wf-1`, "st")).toBe("running");
    // Waiting for nothing until its replay asks; the step it asks for again lost its finished record.
    expect(await client.scard(`${tag}:wp:wf-1`)).toBe(0);
    expect(await client.exists(`${tag}:t:old-step`)).toBe(0);
    expect(await client.hget(`${tag}:done`, "old-step")).toBeNull();
  });
});
