/**
 * A command whose reply is lost to a dropped connection is sent again by
 * ioredis on reconnect. The scripts that must not act twice recognise the
 * resend by its request token and answer as the first time. No
 * acknowledged add is lost — nor reported as a duplicate of itself.
 */
import { Redis } from "ioredis";
import { task } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { scriptSource } from "../../../src/backends/redis/scripts.js";
import { fileKey } from "../../support/isolation.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const prefix = fileKey(import.meta.url);
const available = await requireService("Redis", REDIS_URL);
const job = task({ name: "resend.job" }, (n: number) => n);

describe.skipIf(!available)("redis: a resent call replays its first answer", () => {
  const client = new Redis(REDIS_URL);
  const tag = `{${prefix}:resend}`;
  const keys = [
    "all",
    "pending",
    "wake",
    "scheduled",
    "processing",
    "done",
    "counts",
    "expires",
  ].map((k) => `${tag}:${k}`);

  afterAll(async () => {
    client.disconnect();
    await deleteRedisPrefix(prefix);
  });

  it("add: the same call twice answers true twice and queues once; another call is a duplicate", async () => {
    const lua = scriptSource("add");
    const record = { ...job(1).toJSON(), status: "pending" };
    const call = (token: string) =>
      client.eval(
        lua,
        keys.length,
        ...keys,
        `${tag}:t:`,
        "unique",
        token,
        record.id,
        JSON.stringify(record),
        "p",
        "",
      );
    expect(await call("token-a")).toEqual([1]);
    expect(await call("token-a")).toEqual([1]);
    expect(await call("token-b")).toEqual([0]);
    expect(await client.llen(`${tag}:pending`)).toBe(1);
  });

  it("claim: the same request twice returns the same claims, still current; the tasks are claimed once", async () => {
    const lua = scriptSource("claim");
    await client.del(`${tag}:pending`);
    const records = [job(2), job(3), job(4)].map((t) => ({ ...t.toJSON(), status: "pending" }));
    await client.eval(
      scriptSource("add"),
      keys.length,
      ...keys,
      `${tag}:t:`,
      "unique",
      "token-add",
      ...records.flatMap((r) => [r.id, JSON.stringify(r), "p", ""]),
    );
    const claimKeys = [`${tag}:pending`, `${tag}:processing`, `${tag}:wake`];
    const claim = (token: string, limit: number) =>
      client.eval(
        lua,
        4,
        ...claimKeys,
        `${tag}:req:${token}`,
        `${tag}:t:`,
        limit,
        new Date().toISOString(),
        token,
      ) as Promise<string[]>;
    const first = await claim("claim-a", 2);
    expect(first.filter((_, i) => i % 3 === 0)).toEqual([records[0]!.id, records[1]!.id]);
    // The resend finds its claims among all claimed tasks, in no stated order.
    const triples = (flat: string[]) =>
      new Set(flat.filter((_, i) => i % 3 === 0).map((id, i) => `${id} ${flat[i * 3 + 2]}`));
    expect(triples(await claim("claim-a", 2))).toEqual(triples(first));
    // A new request claims what is left.
    const next = await claim("claim-b", 2);
    expect(next.filter((_, i) => i % 3 === 0)).toEqual([records[2]!.id]);
    expect(await client.zcard(`${tag}:processing`)).toBe(3);
    expect(await client.llen(`${tag}:pending`)).toBe(0);
  });
});
