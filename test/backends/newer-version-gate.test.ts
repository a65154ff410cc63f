/**
 * A process of an earlier Sheppy still running when a newer one changes the
 * store (migrates the SQL schema, or writes a queue's records in a newer form
 * on Redis) takes no more tasks from it: its claims are refused with a
 * `SchemaVersionError` and its takeovers take nothing, so it never reads a
 * record in a form it does not know and stores it back damaged. The claims
 * it already holds it still renews and settles, the waiting tasks stay as
 * they were for the newer workers, and a worker of that process goes on
 * running (it reports the refusal and keeps looking) instead of failing.
 */
import Database from "better-sqlite3";
import { Redis } from "ioredis";
import pg from "pg";
import {
  PostgresBackend,
  Queue,
  RedisBackend,
  SchemaVersionError,
  SqliteBackend,
  type Task,
  task,
  Worker,
} from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { fileKey } from "../support/isolation.js";
import { dropSchema, POSTGRES_URL, schemaFor } from "../support/postgres.js";
import { deleteRedisPrefix, REDIS_URL } from "../support/redis.js";
import { requireService } from "../support/services.js";
import { sqliteTestDir } from "../support/sqlite.js";

const key = fileKey(import.meta.url);
const schema = schemaFor(key);
const files = sqliteTestDir(key);
const redisUp = await requireService("Redis", REDIS_URL);
const postgresUp = await requireService("PostgreSQL", POSTGRES_URL);
const double = task({ name: "newer-gate.double" }, (n: number) => n * 2);

afterAll(async () => {
  files.remove();
  if (postgresUp) await dropSchema(schema);
  if (redisUp) await deleteRedisPrefix(key);
});

/** Makes the store look changed by a newer Sheppy (`on`), or as before (`off`). */
type Mark = (on: boolean) => Promise<void>;

async function checkGate(queue: Queue, mark: Mark, refusal: RegExp): Promise<void> {
  const { backend, name } = queue;
  await queue.connect();
  const [held, expired, waiting] = [double(1), double(2), double(3)];
  await queue.add([held, expired, waiting]);
  const claims = await backend.claim(name, 2);
  expect(claims.map((c) => c.record.id)).toEqual([held.id, expired.id]);
  const [heldClaim, expiredClaim] = claims as [(typeof claims)[0], (typeof claims)[0]];

  await mark(true);
  const refused = await backend.claim(name, 10).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(refused).toBeInstanceOf(SchemaVersionError);
  expect((refused as Error).message).toMatch(refusal);
  expect((refused as Error).message).toMatch(/newer Sheppy.*upgrade sheppy/);
  // An expired lease is left to the newer workers: not noted, not taken, and the takeover says why.
  const reclaim = await backend.reclaimExpired(name, { leaseMs: 0, confirmMs: 0 }).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(reclaim).toBeInstanceOf(SchemaVersionError);
  expect((reclaim as Error).message).toMatch(
    /^reclaim: .*newer Sheppy.*takes over none of .*claims left to expire: a worker of the newer version does: upgrade sheppy$/,
  );

  // What it holds it still renews and settles.
  const refs = [heldClaim, expiredClaim].map((c) => ({ id: c.record.id, fence: c.fence }));
  expect(await backend.renew(name, refs)).toEqual([]);
  const finishedAt = new Date().toISOString();
  const outcome = await backend.settle(
    name,
    [
      {
        fence: heldClaim.fence,
        record: { ...heldClaim.record, status: "completed", result: 2, finishedAt },
        children: [],
        expiresAt: null,
      },
    ],
    Date.now(),
  );
  expect(outcome).toEqual(["settled"]);

  // A worker reports the refusal (logged once) and keeps looking; it runs nothing meanwhile.
  const warnings: string[] = [];
  const logger = {
    debug() {},
    info() {},
    error() {},
    warn(fields: unknown, message?: string) {
      const err = (fields as { err?: unknown }).err;
      warnings.push(`${message} — ${err instanceof Error ? err.message : ""}`);
    },
  };
  const worker = new Worker(queue, {
    claimWait: 0.1,
    heartbeatInterval: 0.1,
    reclaimInterval: 0.1,
    logger,
  });
  const errors: { error: unknown; during: string }[] = [];
  worker.on("worker:error", (event) => errors.push(event));
  const working = worker.work();
  const refusedDuring = () =>
    new Set(errors.filter((e) => e.error instanceof SchemaVersionError).map((e) => e.during));
  const deadline = Date.now() + 5000;
  while (refusedDuring().size < 2 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect([...refusedDuring()].sort()).toEqual(["claim", "reclaim"]);
  const [heldNow, expiredNow, waitingNow] = await queue.getTask([held, expired, waiting] as Task[]);
  expect([heldNow?.status, heldNow?.result]).toEqual(["completed", 2]);
  expect([expiredNow?.status, expiredNow?.startedAt?.toISOString()]).toEqual([
    "processing",
    expiredClaim.record.startedAt,
  ]);
  expect(waitingNow?.status).toBe("pending");
  expect(await queue.size()).toBe(1);
  // Once for claims and once for takeovers, however often the worker looks — also while the
  // queue has nothing claimable (an earlier build flipped to "works again" then).
  await queue.cancel(waiting);
  const refusedAt = warnings.length;
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(warnings.slice(refusedAt)).toEqual([]);
  expect(warnings.filter((w) => /newer Sheppy/.test(w))).toHaveLength(2);
  const again = double(3);
  await queue.add(again);

  // Once the store is as this process knows it again, the same worker takes the waiting task.
  await mark(false);
  const [done] = await queue.waitFor([again], { timeout: 10 });
  expect([done.status, done.result]).toEqual(["completed", 6]);
  await worker.close();
  await working;
  expect(warnings.at(-1)).toMatch(/^claiming tasks works again/);
  await queue.close();
}

describe("a store changed by a newer Sheppy under a running process", () => {
  it.skipIf(!redisUp)(
    "Redis: a queue whose records a newer version wrote is refused to claims and takeovers; held claims settle",
    async () => {
      const queue = new Queue(new RedisBackend({ url: REDIS_URL, prefix: key }), {
        name: "gate",
      });
      const raw = new Redis(REDIS_URL);
      const recordsKey = `{${key}:gate}:records`;
      try {
        await checkGate(
          queue,
          async (on) => {
            if (on) await raw.set(recordsKey, "5");
            else await raw.del(recordsKey);
          },
          /queue 'gate' .* holds task records of version 5/,
        );
      } finally {
        raw.disconnect();
      }
    },
  );

  it.skipIf(!redisUp)(
    "Redis: a record a newer version wrote reads as unreadable, naming the version, and is never retried over",
    async () => {
      const queue = new Queue(new RedisBackend({ url: REDIS_URL, prefix: key }), {
        name: "newer-record",
      });
      const raw = new Redis(REDIS_URL);
      try {
        const [later, earlier] = [double(4), double(5)];
        await queue.add([later, earlier]);
        await new Worker(queue, { claimWait: 0.1 }).work({ oneshot: true });
        // As a newer Sheppy might store it: a record version this one does not know.
        const hash = `{${key}:newer-record}:t:${later.id}`;
        const stored = (await raw.hget(hash, "d"))!;
        expect(stored.startsWith('{"v":4,')).toBe(true);
        await raw.hset(hash, "d", stored.replace('{"v":4,', '{"v":5,'), "status", "failed");
        const before = await raw.hgetall(hash);

        const shown = await queue.getTask(later);
        expect([shown?.status, shown?.error?.type]).toEqual(["failed", "SerializationError"]);
        expect(shown?.error?.message).toBe(
          `task record ${later.id} in Redis was written by a newer Sheppy (record version 5; this one reads version 4 at most): upgrade sheppy to read it`,
        );
        await expect(queue.retry(later, { force: true })).rejects.toThrow(
          new RegExp(`Cannot retry task ${later.id}: its stored record could not be read`),
        );
        await expect(queue.retryAll({ status: ["failed"] })).resolves.toMatchObject({
          retried: 0,
        });
        expect(await raw.hgetall(hash)).toEqual(before);
        // A readable task beside it is retried as always.
        expect(await queue.retry(earlier, { force: true })).toBe(true);
      } finally {
        raw.disconnect();
        await queue.close();
      }
    },
  );

  it.skipIf(!postgresUp)(
    "PostgreSQL: a schema migrated further is refused to claims and takeovers; held claims settle",
    async () => {
      const queue = new Queue(new PostgresBackend({ url: POSTGRES_URL, schema }), {
        name: "gate",
      });
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        await checkGate(
          queue,
          async (on) => {
            await client.query(
              on
                ? `INSERT INTO "${schema}".migrations (version, name) VALUES (999, 'from_a_newer_sheppy')`
                : `DELETE FROM "${schema}".migrations WHERE version = 999`,
            );
          },
          /migrated to version 999 \(from_a_newer_sheppy\)/,
        );
      } finally {
        await client.end();
      }
    },
  );

  it("SQLite: a file migrated further is refused to claims and takeovers; held claims settle", async () => {
    const path = files.path("gate.db");
    const queue = new Queue(new SqliteBackend({ path }), { name: "gate" });
    await checkGate(
      queue,
      async (on) => {
        const db = new Database(path);
        try {
          if (on)
            db.prepare(
              "INSERT INTO migrations (version, name, applied_at) VALUES (999, 'from_a_newer_sheppy', ?)",
            ).run(new Date().toISOString());
          else db.prepare("DELETE FROM migrations WHERE version = 999").run();
        } finally {
          db.close();
        }
      },
      /migrated to schema version 999 \(from_a_newer_sheppy\)/,
    );
  });
});
