/**
 * Adding tasks within the application's own transaction (`queue.add(task,
 * { tx })`, `queue.schedule(task, at, { tx })`) on PostgreSQL: the task is
 * there — and a waiting worker hears of it — once the transaction commits,
 * and never when it rolls back. Backends that cannot do it refuse `tx`.
 */
import pg from "pg";
import {
  BackendError,
  BackendUnavailableError,
  InvalidOptionError,
  PostgresBackend,
  Queue,
  task,
  Worker,
} from "sheppy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileKey } from "../../support/isolation.js";
import { dropSchema, POSTGRES_URL, schemaFor } from "../../support/postgres.js";
import { requireService } from "../../support/services.js";

const available = await requireService("PostgreSQL", POSTGRES_URL);
const schema = schemaFor(fileKey(import.meta.url));
const echo = task({ name: "transactional-add.echo" }, (n: number) => n);

let app: pg.Pool;
let counter = 0;

beforeAll(() => {
  app = new pg.Pool({ connectionString: POSTGRES_URL, max: 4 });
});

afterAll(async () => {
  await app.end();
  if (available) await dropSchema(schema);
});

/** A queue of its own on a fresh backend, closed by `done`. */
async function setup() {
  // Looking again on its own only after 2 minutes: a worker woken sooner was woken by a notification.
  const backend = new PostgresBackend({ url: POSTGRES_URL, schema, pollInterval: 120 });
  const queue = new Queue(backend, { name: `tx-${++counter}` });
  await queue.connect();
  return { queue, backend, done: () => backend.disconnect() };
}

/** Runs `fn` inside BEGIN … COMMIT (or ROLLBACK) on a client of the application's own pool. */
async function inTransaction(
  end: "COMMIT" | "ROLLBACK",
  fn: (client: pg.PoolClient) => Promise<void>,
): Promise<void> {
  const client = await app.connect();
  try {
    await client.query("BEGIN");
    await fn(client);
    await client.query(end);
  } finally {
    client.release();
  }
}

// Skipped only when PostgreSQL is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("adding within the application's transaction", () => {
  it("the commit moves the transaction's staged events once, not once per task it added: each added task's event is there after", async () => {
    const { queue, backend, done } = await setup();
    const tasks = Array.from({ length: 300 }, (_, n) => echo(n));
    try {
      let moves = -1;
      await inTransaction("COMMIT", async (client) => {
        await client.query("SET LOCAL track_functions = 'pl'");
        // One add call per task, and one of them all: a staged row per task, a marker per call.
        for (const t of tasks.slice(0, 200)) await queue.add(t, { tx: client });
        await queue.add(tasks.slice(200), { tx: client });
        // The commit's deferred triggers, fired here so this transaction's counters see them.
        await client.query("SET CONSTRAINTS ALL IMMEDIATE");
        const { rows } = await client.query<{ calls: string | null }>(
          `SELECT pg_stat_get_xact_function_calls('"${schema}".move_pending_events'::regproc)::text AS calls`,
        );
        moves = Number(rows[0]!.calls ?? 0);
      });
      // Each row's firing used to look for the queue's rows again: 402 calls here.
      expect(moves).toBeGreaterThan(0);
      expect(moves).toBeLessThanOrEqual(2);
      const events = await backend.readEvents(queue.name, { after: null, limit: 1000 });
      expect(events).toHaveLength(300);
      expect(await queue.size()).toBe(300);
    } finally {
      await done();
    }
  });

  it("a task added within a transaction exists only once it commits; a waiting worker runs it at once", async () => {
    const { queue, done } = await setup();
    const worker = new Worker(queue, { claimWait: 60 });
    const working = worker.work({ maxTasks: 1 });
    try {
      const t = echo(7);
      let committedAt = 0;
      await inTransaction("COMMIT", async (client) => {
        expect(await queue.add(t, { tx: client })).toBe(true);
        // Not there for anyone else yet: not even the backend's own connections see it.
        expect(await queue.getTask(t)).toBeNull();
        expect(await queue.size()).toBe(0);
        committedAt = Date.now();
      });
      const summary = await working;
      expect(summary).toMatchObject({ processed: 1 });
      // Woken by the notification its commit sent, not by the look-again or the claim's end (a minute or more here).
      expect(Date.now() - committedAt).toBeLessThan(20_000);
      expect((await queue.getTask(t))?.status).toBe("completed");
    } finally {
      await worker.close({ force: true });
      await done();
    }
  });

  it("a task added within a transaction that rolls back never exists; the same id can be added later", async () => {
    const { queue, done } = await setup();
    try {
      const t = echo(8);
      await inTransaction("ROLLBACK", async (client) => {
        expect(await queue.add([t, echo(9)], { tx: client })).toEqual([true, true]);
      });
      expect(await queue.getTask(t)).toBeNull();
      expect(await queue.size()).toBe(0);
      expect(await queue.add(t)).toBe(true);
      expect(await queue.size()).toBe(1);
    } finally {
      await done();
    }
  });

  it("entries with ids of their own commit or roll back with the transaction; an entry whose dedupe key would replace a task is refused there, adding nothing", async () => {
    const { queue, done } = await setup();
    try {
      const entries = [
        { task: echo(20), id: "order-20" },
        { task: echo(21), id: "order-21", at: 3600 },
      ];
      await inTransaction("ROLLBACK", async (client) => {
        expect((await queue.add(entries, { tx: client })).map((r) => r.outcome)).toEqual([
          "added",
          "added",
        ]);
      });
      expect(await queue.getTask("order-20")).toBeNull();
      await inTransaction("COMMIT", async (client) => {
        expect(await queue.add(entries, { tx: client })).toEqual([
          { outcome: "added", id: "order-20" },
          { outcome: "added", id: "order-21" },
        ]);
        const refused = await queue
          .add(
            [
              { task: echo(22), id: "order-22" },
              { task: echo(23), dedupe: { key: "k", mode: "replace" } },
            ],
            {
              tx: client,
            },
          )
          .catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(InvalidOptionError);
        expect((refused as Error).message).toBe(
          "queue.add(): item [1]: dedupe mode 'replace' cannot be combined with tx (the task it replaces would stay locked until your transaction ends); use mode 'ignore' within tx, or add it without tx",
        );
      });
      expect((await queue.getTask("order-21"))?.status).toBe("scheduled");
      expect(await queue.getTask("order-22")).toBeNull();
      expect(await queue.size()).toBe(1);
    } finally {
      await done();
    }
  });

  it("a dedupe key within a transaction: taken at its commit, free again after a rollback, and a key held by an unfinished task ignores the add there too", async () => {
    const { queue, backend, done } = await setup();
    try {
      const key = { key: "reindex-42" };
      await inTransaction("ROLLBACK", async (client) => {
        expect(await queue.add(echo(1), { tx: client, dedupe: key })).toMatchObject({
          outcome: "added",
        });
      });
      expect(await queue.size()).toBe(0);
      const first = echo(2);
      await inTransaction("COMMIT", async (client) => {
        expect(await queue.add(first, { tx: client, dedupe: key })).toEqual({
          outcome: "added",
          id: first.id,
        });
        expect(await queue.getTask(first)).toBeNull();
      });
      expect((await queue.getTask(first))?.status).toBe("pending");
      // Held by its pending task: ignored within a transaction as without one, in a list too.
      await inTransaction("COMMIT", async (client) => {
        expect(await queue.add(echo(3), { tx: client, dedupe: key })).toEqual({
          outcome: "ignored",
          id: first.id,
        });
        expect(
          await queue.add(
            [
              { task: echo(4), dedupe: key },
              { task: echo(5), dedupe: { key: "other" } },
            ],
            { tx: client },
          ),
        ).toEqual([
          { outcome: "ignored", id: first.id },
          { outcome: "added", id: expect.any(String) },
        ]);
      });
      expect(await queue.size()).toBe(2);
      // Its task finished, the key is free: the next add within a transaction takes it.
      const worker = new Worker(queue, { claimWait: 60 });
      await worker.work({ maxTasks: 2 });
      await worker.close();
      const second = echo(6);
      await inTransaction("COMMIT", async (client) => {
        expect(await queue.add(second, { tx: client, dedupe: key })).toEqual({
          outcome: "added",
          id: second.id,
        });
      });
      expect(await queue.add(echo(7), { dedupe: key })).toEqual({
        outcome: "ignored",
        id: second.id,
      });
      // The added tasks' events entered the log at their commits, one each.
      const added = (await backend.readEvents(queue.name, { after: null, limit: 100 })).filter(
        (event) => event.body.includes('"added"'),
      );
      expect(added).toHaveLength(3);
    } finally {
      await done();
    }
  });

  it("two transactions adding one key: the second waits for the first, and is ignored when it commits or takes the key when it rolls back", async () => {
    const { queue, done } = await setup();
    try {
      for (const end of ["COMMIT", "ROLLBACK"] as const) {
        const key = { key: `race-${end}` };
        const [a, b] = [app.connect(), app.connect()];
        const [one, two] = await Promise.all([a, b]);
        try {
          await one.query("BEGIN");
          await two.query("BEGIN");
          const mine = echo(1);
          expect(await queue.add(mine, { tx: one, dedupe: key })).toMatchObject({
            outcome: "added",
          });
          let answered = false;
          const theirs = echo(2);
          const second = queue.add(theirs, { tx: two, dedupe: key }).finally(() => {
            answered = true;
          });
          await new Promise((resolve) => setTimeout(resolve, 300));
          expect(answered).toBe(false);
          await one.query(end);
          expect(await second).toEqual(
            end === "COMMIT"
              ? { outcome: "ignored", id: mine.id }
              : { outcome: "added", id: theirs.id },
          );
          await two.query("COMMIT");
          expect((await queue.getTask(end === "COMMIT" ? mine : theirs))?.status).toBe("pending");
          expect(await queue.getTask(end === "COMMIT" ? theirs : mine)).toBeNull();
        } finally {
          one.release();
          two.release();
        }
      }
    } finally {
      await done();
    }
  });

  it("a transaction whose keyed add was ignored holds nothing the key's task needs: a worker runs and settles that task while it stays open", async () => {
    const { queue, done } = await setup();
    try {
      const held = echo(1);
      await queue.add(held, { dedupe: { key: "busy" } });
      const client = await app.connect();
      try {
        await client.query("BEGIN");
        expect(await queue.add(echo(2), { tx: client, dedupe: { key: "busy" } })).toEqual({
          outcome: "ignored",
          id: held.id,
        });
        const worker = new Worker(queue, { claimWait: 60 });
        expect(await worker.work({ maxTasks: 1 })).toMatchObject({ processed: 1 });
        await worker.close();
        expect((await queue.getTask(held))?.status).toBe("completed");
        await client.query("COMMIT");
      } finally {
        client.release();
      }
    } finally {
      await done();
    }
  });

  it("a transaction taking over a key whose task finished keeps the key from the prune, which does not wait for it", async () => {
    const { queue, backend, done } = await setup();
    try {
      const key = { key: "nightly" };
      await queue.add(echo(1), { dedupe: key });
      const worker = new Worker(queue, { claimWait: 60 });
      await worker.work({ maxTasks: 1 });
      await worker.close();
      const client = await app.connect();
      try {
        await client.query("BEGIN");
        const next = echo(2);
        expect(await queue.add(next, { tx: client, dedupe: key })).toEqual({
          outcome: "added",
          id: next.id,
        });
        // The slot this transaction is moving to its task is skipped, not waited for.
        await backend.pruneExpired(queue.name, Date.now());
        await client.query("COMMIT");
        expect(await queue.add(echo(3), { dedupe: key })).toEqual({
          outcome: "ignored",
          id: next.id,
        });
      } finally {
        client.release();
      }
    } finally {
      await done();
    }
  });

  it("schedule within a transaction; an id the queue holds is refused there as anywhere", async () => {
    const { queue, done } = await setup();
    try {
      const later = echo(10);
      const held = echo(11);
      await queue.add(held);
      await inTransaction("COMMIT", async (client) => {
        expect(await queue.schedule(later, 3600, { tx: client })).toBe(true);
        expect(await queue.add(held, { tx: client })).toBe(false);
      });
      expect((await queue.getScheduled()).map((t) => t.id)).toEqual([later.id]);
      expect((await queue.getTask(later))?.status).toBe("scheduled");
    } finally {
      await done();
    }
  });

  it("an error inside the transaction is a BackendError; the application's transaction is its own to end", async () => {
    const { queue, done } = await setup();
    try {
      const client = await app.connect();
      try {
        await client.query("BEGIN");
        // A broken transaction (an earlier statement failed) refuses the add.
        await client.query("SELECT 1/0").catch(() => undefined);
        const error = await queue.add(echo(12), { tx: client }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(BackendError);
        expect((error as Error).message).toMatch(/refused the add within your transaction/);
        await client.query("ROLLBACK");
      } finally {
        client.release();
      }
      expect(await queue.size()).toBe(0);
    } finally {
      await done();
    }
  });

  it("a tx on a database where the backend's schema was never migrated is refused with a hint saying so; nothing is added", async () => {
    const { queue, done } = await setup();
    const url = new URL(POSTGRES_URL);
    url.pathname = url.pathname === "/postgres" ? "/template1" : "/postgres";
    const elsewhere = new pg.Client({ connectionString: url.toString() });
    await elsewhere.connect();
    try {
      await elsewhere.query("BEGIN");
      const error = await queue.add(echo(13), { tx: elsewhere }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackendError);
      expect((error as Error).message).toMatch(
        new RegExp(
          `^add: PostgreSQL refused the add within your transaction: .*does not exist.* \\(is tx a transaction on the database this backend uses, where its schema "${schema}" was migrated\\?\\)$`,
        ),
      );
      await elsewhere.query("ROLLBACK");
      expect(await queue.size()).toBe(0);
    } finally {
      await elsewhere.end();
      await done();
    }
  });

  it("a tx whose query answers without rows (a broken wrapper) is named as such, not as a refusal by PostgreSQL", async () => {
    const { queue, done } = await setup();
    try {
      await inTransaction("ROLLBACK", async (client) => {
        const answers: [string, (text: string, values?: unknown[]) => Promise<unknown>][] = [
          ["undefined", async (text, values) => void (await client.query(text, values))],
          [
            "an array (the rows alone? resolve to { rows } instead)",
            async (text, values) => (await client.query(text, values)).rows,
          ],
        ];
        for (const [got, query] of answers) {
          const error = await queue
            .add(echo(16), { tx: { query } as never })
            .catch((e: unknown) => e);
          expect(error).toBeInstanceOf(InvalidOptionError);
          expect((error as Error).message).toBe(
            `add: tx.query(text, values) must resolve to a result with rows, as node-postgres's query does (got ${got})`,
          );
        }
      });
      expect(await queue.size()).toBe(0);
    } finally {
      await done();
    }
  });

  it("a backend that cannot add within a transaction refuses tx, adding nothing", async () => {
    const memory = new Queue("memory://?instantProcessing=false", { name: "tx-memory" });
    const fake = { query: async () => ({ rows: [] }) };
    await expect(memory.add(echo(13), { tx: fake })).rejects.toThrow(InvalidOptionError);
    await expect(memory.schedule(echo(14), 60, { tx: fake })).rejects.toThrow(
      /cannot add within your SQL transaction/,
    );
    expect(await memory.size()).toBe(0);
    const { queue, done } = await setup();
    try {
      await expect(queue.add(echo(15), { tx: {} as unknown as pg.PoolClient })).rejects.toThrow(
        /tx must be a transaction/,
      );
    } finally {
      await done();
    }
  });

  it("a pool given as tx is refused in one line saying to pass the client BEGIN ran on; nothing is added", async () => {
    const { queue, done } = await setup();
    try {
      const added = echo(16);
      // The types refuse a pool too; this is what a caller from JavaScript (or past a cast) meets.
      const pool = app as unknown as pg.PoolClient;
      const error = (await queue.add(added, { tx: pool }).catch((e: unknown) => e)) as Error;
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.message).toContain("tx is a connection pool");
      expect(error.message).toContain("pass the client you ran BEGIN on");
      expect(error.message).not.toContain("\n");
      await expect(queue.schedule(echo(17), 60, { tx: pool })).rejects.toThrow(
        /tx is a connection pool/,
      );
      expect(await queue.getTask(added)).toBeNull();
      expect(await queue.size()).toBe(0);
      // A client taken from that pool, inside BEGIN, is what tx takes.
      await inTransaction("COMMIT", async (client) => {
        expect(await queue.add(echo(18), { tx: client })).toBe(true);
      });
      expect(await queue.size()).toBe(1);
    } finally {
      await done();
    }
  });

  it("a client with no transaction open is refused (it would store the task at once); one whose BEGIN is under way is not", async () => {
    const { queue, done } = await setup();
    const client = await app.connect();
    try {
      const loose = echo(19);
      for (const moment of ["before BEGIN", "after COMMIT", "after ROLLBACK"]) {
        if (moment === "after COMMIT") await client.query("BEGIN; COMMIT");
        if (moment === "after ROLLBACK") await client.query("BEGIN; ROLLBACK");
        const error = (await queue.add(loose, { tx: client }).catch((e: unknown) => e)) as Error;
        expect(error, moment).toBeInstanceOf(InvalidOptionError);
        expect(error.message).toBe(
          "queue.add(): tx is a connection with no transaction open (no BEGIN yet, or after COMMIT or ROLLBACK): the task would be stored at once, whatever becomes of your rows; run BEGIN on it first, or leave tx out",
        );
        await expect(queue.schedule(loose, 60, { tx: client })).rejects.toThrow(
          /^queue\.schedule\(\): tx is a connection with no transaction open/,
        );
      }
      expect(await queue.getTask(loose)).toBeNull();
      // BEGIN sent and not yet answered: the client cannot tell yet, and the add queues behind it.
      const begun = client.query("BEGIN");
      const added = queue.add(loose, { tx: client });
      await begun;
      expect(await added).toBe(true);
      await client.query("ROLLBACK");
      expect(await queue.getTask(loose)).toBeNull();
    } finally {
      client.release();
      await done();
    }
  });

  it("an add on a queue not yet connected, whose tx holds the application's last pooled connection, fails within the bound saying why (it waited without end)", async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 });
    const backend = new PostgresBackend({ pool, schema, unavailableAfter: 1 });
    const queue = new Queue(backend, { name: `tx-${++counter}` });
    let client: pg.PoolClient | undefined = await pool.connect();
    try {
      await client.query("BEGIN");
      const error = (await queue.add(echo(20), { tx: client }).catch((e: unknown) => e)) as Error;
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect(error.message).toMatch(
        /^PostgreSQL at postgres:\/\/\S+: no connection of the application's pool came free within 1 s \(1 open, 0 idle, \d+ calls waiting for one, this one among them\); do transactions of yours hold them all/,
      );
      expect(error.message).toContain("await queue.connect()");
      await client.query("ROLLBACK");
      client.release();
      client = undefined;
      // Connected first (its connection back in the pool), the same add runs on the transaction alone.
      await queue.connect();
      client = await pool.connect();
      await client.query("BEGIN");
      const added = echo(21);
      expect(await queue.add(added, { tx: client })).toBe(true);
      await client.query("COMMIT");
      client.release();
      client = undefined;
      expect((await queue.getTask(added))?.status).toBe("pending");
    } finally {
      client?.release();
      await backend.disconnect();
      await pool.end();
    }
  });
});
