/**
 * A prefix whose data a newer Sheppy laid out (its `<p>:format` above the one
 * this version reads) is refused at connect, with a one-line error that says
 * to upgrade, and nothing in it is touched; a prefix without the key, or at
 * this version's format, connects as before and gets no key written.
 */
import { Redis } from "ioredis";
import { BackendError, Queue, SchemaVersionError, task } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { REDIS_DATA_FORMAT } from "../../../src/backends/redis/data-format.js";
import { expectOneLineError, redisUrlWithPrefix, runCli } from "../../support/cli.js";
import { fileKey } from "../../support/isolation.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const available = await requireService("Redis", REDIS_URL);
const prefix = fileKey(import.meta.url);
const echo = task({ name: "data-format.echo" }, (n: number) => n);

// Skipped only when Redis is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("Redis: the data format of a prefix", () => {
  const admin = new Redis(REDIS_URL);
  afterAll(async () => {
    admin.disconnect();
    await deleteRedisPrefix(prefix);
  });

  it("no format key: connects, and writes none", async () => {
    const queue = new Queue(redisUrlWithPrefix(REDIS_URL, `${prefix}-plain`), { name: "q" });
    await queue.add(echo(1));
    await queue.close();
    expect(await admin.exists(`${prefix}-plain:format`)).toBe(0);
  });

  it("a newer format is refused at connect, the tasks there untouched; this version's is read", async () => {
    const url = redisUrlWithPrefix(REDIS_URL, `${prefix}-newer`);
    const before = new Queue(url, { name: "q" });
    const kept = echo(2);
    await before.add(kept);
    await before.close();
    await admin.set(`${prefix}-newer:format`, String(REDIS_DATA_FORMAT + 1));
    const after = new Queue(url, { name: "q" });
    const refused = await after.add(echo(3)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SchemaVersionError);
    expect((refused as Error).message).toMatch(/^connect: Redis at redis:\/\/\S+, prefix '/);
    expect((refused as Error).message).toContain(
      `prefix '${prefix}-newer', holds data in format ${REDIS_DATA_FORMAT + 1}, written by a newer Sheppy; this one reads format ${REDIS_DATA_FORMAT} at most: upgrade sheppy`,
    );
    await after.close();
    expect(await admin.hget(`{${prefix}-newer:q}:t:${kept.id}`, "status")).toBe("pending");
    // The CLI says it in one line and exits non-zero.
    const listed = await runCli(["queue", "list"], { SHEPPY_BACKEND_URL: url });
    expect(expectOneLineError(listed)).toMatch(/written by a newer Sheppy.*upgrade sheppy$/);
    // At this version's format it connects.
    await admin.set(`${prefix}-newer:format`, String(REDIS_DATA_FORMAT));
    const again = new Queue(url, { name: "q" });
    expect((await again.getTask(kept.id))?.status).toBe("pending");
    await again.close();
  });

  it("a format key that is not a number is refused as someone else's", async () => {
    const url = redisUrlWithPrefix(REDIS_URL, `${prefix}-odd`);
    await admin.set(`${prefix}-odd:format`, "v2-beta");
    const queue = new Queue(url, { name: "q" });
    const refused = await queue.stats().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BackendError);
    expect(refused).not.toBeInstanceOf(SchemaVersionError);
    expect((refused as Error).message).toContain(`key ${prefix}-odd:format holds "v2-beta"`);
    await queue.close();
  });
});
