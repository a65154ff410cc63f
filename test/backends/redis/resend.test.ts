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
});
