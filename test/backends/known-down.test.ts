/**
 * A server known to be down, on a private Redis and a private PostgreSQL:
 * the first call waits its whole `unavailableAfter` for the server and fails;
 * until a call gets through again, later calls try only for about two
 * seconds (an HTTP API in front of a dead server answers 503 at once instead
 * of holding every request for the whole bound); the first call after the
 * server is back gets through, and the next outage is waited out in full
 * again.
 */
import { BackendUnavailableError, Queue, task } from "sheppy";
import type { Backend } from "sheppy/backend";
import { PostgresBackend } from "sheppy/backends/postgres";
import { RedisBackend } from "sheppy/backends/redis";
import { createHttpHandler } from "sheppy/http";
import { afterEach, describe, expect, it } from "vitest";
import { PrivatePostgres, postgresBinaries } from "../support/private-postgres.js";
import { PrivateRedis } from "../support/private-redis.js";
import { REDIS_URL } from "../support/redis.js";
import { missingService, requireService } from "../support/services.js";

const job = task({ name: "known-down.job" }, (n: number) => n);

interface Server {
  readonly backend: Backend;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/** Times `call`, returning how long it took and what it threw. */
async function timed(call: () => Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = Date.now();
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  return { ms: Date.now() - started, error };
}

function knownDownCases(name: string, open: () => Promise<Server>, label: RegExp) {
  let server: Server | undefined;
  let opened: Queue | undefined;

  afterEach(async () => {
    await opened?.close().catch(() => undefined);
    await server?.destroy();
    server = undefined;
    opened = undefined;
  });

  it(`${name}: after one call waited the whole bound, calls fail within about 2 s until the server is back`, async () => {
    server = await open();
    const queue = new Queue(server.backend, { name: "known-down" });
    opened = queue;
    await queue.add(job(0));
    await server.stop();

    const first = await timed(() => queue.add(job(1)));
    expect(first.error).toBeInstanceOf(BackendUnavailableError);
    expect((first.error as Error).message).toMatch(/could not be reached within 4 s/);
    expect(first.ms).toBeGreaterThanOrEqual(3900);

    for (const call of [() => queue.stats(), () => queue.add(job(2))]) {
      const next = await timed(call);
      expect(next.error).toBeInstanceOf(BackendUnavailableError);
      const message = (next.error as Error).message;
      expect(message).toMatch(label);
      expect(message).toMatch(
        /cannot be reached \(unreachable since \d{4}-\d\d-\d\dT[\d:.]+Z; until a call gets through again, calls try for 2 s instead of 4 s\)$/,
      );
      expect(message).not.toMatch(/\n/);
      expect(next.ms).toBeLessThan(3500);
    }

    // An HTTP API in front of the queue answers 503 within the short bound too.
    const handler = createHttpHandler(server.backend);
    const started = Date.now();
    const response = await handler(new Request(`http://localhost/${queue.name}/stats`));
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("5");
    expect(Date.now() - started).toBeLessThan(3500);
    // A change it answers 503 may have been made all the same: the body says so.
    const add = await handler(
      new Request(`http://localhost/${queue.name}/tasks`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: job.name, args: [9], id: "order-9" }),
      }),
    );
    expect(add.status).toBe(503);
    const body = (await add.json()) as { error: string; mayHaveApplied?: boolean };
    expect(body.mayHaveApplied).toBe(true);
    expect(body.error).toMatch(
      /the change may have been made all the same; look before sending it again$/,
    );

    await server.start();
    // The first call after the server is back gets through, inside the short bound.
    expect(await queue.add(job(3))).toBe(true);
    expect((await queue.stats()).pending).toBe(2);

    // That call cleared the state: the next outage is waited out in full again.
    await server.stop();
    const again = await timed(() => queue.stats());
    expect(again.error).toBeInstanceOf(BackendUnavailableError);
    expect((again.error as Error).message).toMatch(/could not be reached within 4 s/);
    expect(again.ms).toBeGreaterThanOrEqual(3900);
  }, 60_000);
}

const redisAvailable = await requireService("Redis", REDIS_URL);
describe.skipIf(!redisAvailable)("redis: a server known to be down", () => {
  knownDownCases(
    "redis",
    async () => {
      const redis = await PrivateRedis.start();
      return {
        backend: new RedisBackend({ url: redis.url, prefix: "known-down", unavailableAfter: 4 }),
        stop: () => redis.stop(),
        start: () => redis.start(),
        destroy: () => redis.destroy(),
      };
    },
    /^\w+: Redis at redis:\/\/127\.0\.0\.1:\d+ /,
  );
});

const postgresAvailable =
  postgresBinaries() !== null ||
  missingService("PostgreSQL server binaries", "no initdb under /usr/lib/postgresql");
describe.skipIf(!postgresAvailable)("postgres: a server known to be down", () => {
  knownDownCases(
    "postgres",
    async () => {
      const postgres = await PrivatePostgres.start();
      return {
        backend: new PostgresBackend({
          url: `${postgres.url}?schema=known_down`,
          unavailableAfter: 4,
        }),
        stop: async () => postgres.stop("fast"),
        start: async () => postgres.begin(),
        destroy: async () => postgres.destroy(),
      };
    },
    /^\w+: PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres/,
  );
});
