/**
 * ioredis options given in a `redis://` URL reach ioredis as the numbers and
 * booleans they stand for: ioredis itself hands a URL's values on as text, and
 * a `?connectTimeout=2000` given so made Node's socket throw at connect,
 * outside any call — the process ended. On the shared server, under a prefix
 * of this file's own.
 */
import { Queue, task } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { fileKey } from "../../support/isolation.js";
import { REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const available = await requireService("Redis", REDIS_URL);
const prefix = fileKey(import.meta.url);
const echo = task({ name: "url-driver-options.echo" }, (n: number) => n);
const queues: Queue[] = [];

afterAll(async () => {
  for (const queue of queues) {
    await queue.clear().catch(() => undefined);
    await queue.close();
  }
});

describe.skipIf(!available)("redis: ioredis options in the URL", () => {
  it("?connectTimeout=, ?commandTimeout=, ?keepAlive= and ?noDelay= connect and work", async () => {
    const url = new URL(REDIS_URL);
    url.searchParams.set("connectTimeout", "2000");
    url.searchParams.set("commandTimeout", "5000");
    url.searchParams.set("keepAlive", "1000");
    url.searchParams.set("noDelay", "true");
    url.searchParams.set("prefix", prefix);
    const queue = new Queue(url.toString(), { name: "url-driver-options" });
    queues.push(queue);
    await queue.add(echo(1));
    expect(await queue.size()).toBe(1);
  });
});
