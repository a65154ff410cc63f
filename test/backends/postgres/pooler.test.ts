/**
 * The PostgreSQL backend behind a pooler in transaction mode (a private
 * PgBouncer 1.18 in front of the shared server, one server connection per
 * database and user, so every client of it shares that one): a pooler that
 * hands a server connection to many clients refuses named statements one
 * client prepared and another does not know of, and forwards no
 * notifications to a LISTEN made through it. The whole contract suite behind
 * such a pooler is test/contract/postgres-pooled.test.ts.
 */
import pg from "pg";
import {
  BackendError,
  BackendUnavailableError,
  PostgresBackend,
  Queue,
  task,
  Worker,
} from "sheppy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileKey } from "../../support/isolation.js";
import { dropSchema, POSTGRES_URL, schemaFor } from "../../support/postgres.js";
import { PrivatePgBouncer, pgbouncerBinary } from "../../support/private-pgbouncer.js";
import { PrivatePostgres, postgresBinaries } from "../../support/private-postgres.js";
import { recordingLogger } from "../../support/recording-logger.js";
import { missingService, requireService } from "../../support/services.js";
import { until } from "../../support/until.js";

const available =
  (await requireService("PostgreSQL", POSTGRES_URL)) &&
  (pgbouncerBinary() !== null || missingService("PgBouncer", "pgbouncer is not installed"));
const schema = schemaFor(fileKey(import.meta.url));
const database = new URL(POSTGRES_URL).pathname.slice(1);
const direct = new URL(POSTGRES_URL);
direct.search = "";
const triple = task({ name: "pooler.triple" }, (n: number) => n * 3);

let bouncer: PrivatePgBouncer;
let counter = 0;
const opened: PostgresBackend[] = [];

beforeAll(async () => {
  if (available) bouncer = await PrivatePgBouncer.start(POSTGRES_URL, 1);
});

afterAll(async () => {
  await Promise.all(opened.map((backend) => backend.disconnect()));
  await bouncer?.stop();
  if (available) await dropSchema(schema);
});

/** A backend through the pooler (`params` added to its URL), with a logger that keeps its lines. */
function throughPooler(params = "", options: { listenUrl?: string; pollInterval?: number } = {}) {
  const { lines, logger } = recordingLogger();
  const backend = new PostgresBackend({
    url: `${bouncer.url(database)}?poolSize=2${params}`,
    schema,
    logger,
    ...options,
  });
  opened.push(backend);
  const warnings = () => lines.filter((line) => line.level === "warn").map((line) => line.msg);
  return { backend, warnings, queue: new Queue(backend, { name: `pooled-${++counter}` }) };
}

/** Runs a worker on `queue` until `fn` is done. */
async function withWorker(queue: Queue, fn: () => Promise<void>): Promise<void> {
  const worker = new Worker(queue, { concurrency: 2, handleSignals: false });
  const running = worker.work();
  try {
    await fn();
  } finally {
    await worker.close();
    await running;
  }
}

// Skipped only when PostgreSQL or PgBouncer is missing outside CI; under CI=true they must be there.
describe.skipIf(!available)("behind a pooler in transaction mode", () => {
  it("a name another client prepared on the shared server connection turns names off, said once, and no call fails", async () => {
    const first = throughPooler();
    await first.queue.add(triple(1));
    // A second backend's pool: its connection to the pooler knows none of the names the first
    // prepared on the one server connection behind them both, so its first add meets one.
    const second = throughPooler();
    const t = triple(2);
    expect(await second.queue.add(t)).toBe(true);
    expect(second.backend.url).not.toContain("preparedStatements");
    const clashes = second
      .warnings()
      .filter((msg) => msg.includes("refused a prepared statement's name"));
    expect(clashes).toHaveLength(1);
    expect(clashes[0]).toMatch(
      /pooler in transaction mode.*add \?preparedStatements=false to the URL/,
    );
    await withWorker(second.queue, async () => {
      expect((await second.queue.waitFor(t, { timeout: 15 })).result).toBe(6);
    });
    // Later calls of either backend go through, the first one's own clash said by itself once.
    for (let n = 0; n < 5; n++) {
      await first.queue.add(triple(n));
      await second.queue.add(triple(n));
    }
    expect(second.warnings().filter((msg) => msg.includes("prepared statement"))).toHaveLength(1);
    expect(
      first.warnings().filter((msg) => msg.includes("prepared statement")).length,
    ).toBeLessThanOrEqual(1);
  });

  it("with ?preparedStatements=false no statement is named: nothing clashes, nothing is said", async () => {
    const named = throughPooler();
    await named.queue.add(triple(1));
    const unnamed = throughPooler("&preparedStatements=false");
    for (let n = 0; n < 5; n++) expect(await unnamed.queue.add(triple(n))).toBe(true);
    expect(unnamed.warnings()).toEqual([]);
  });

  it("notifications made through the pooler never arrive: said once with the way out, and work is still seen at the look", async () => {
    const { queue, warnings } = throughPooler("&preparedStatements=false", { pollInterval: 0.2 });
    await withWorker(queue, async () => {
      const deaf = await until(
        () => warnings().find((msg) => msg.includes("notifications do not reach this process")),
        { timeoutMs: 20_000, what: "the warning that notifications do not arrive" },
      );
      expect(deaf).toMatch(/every 0\.2 s.*\?listenUrl=/);
      const t = triple(7);
      await queue.add(t);
      expect((await queue.waitFor(t, { timeout: 15 })).result).toBe(21);
    });
    expect(
      warnings().filter((msg) => msg.includes("notifications do not reach this process")),
    ).toHaveLength(1);
  });

  it("with listenUrl the listener connects directly: an idle worker looking on its own only hourly is woken for a task added later", async () => {
    const { queue } = throughPooler("&preparedStatements=false", {
      listenUrl: direct.toString(),
      pollInterval: 3600,
    });
    await withWorker(queue, async () => {
      const first = triple(1);
      await queue.add(first);
      expect((await queue.waitFor(first, { timeout: 15 })).result).toBe(3);
      // The worker waits for a notification now; only one can wake it within the hour.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const later = triple(5);
      await queue.add(later);
      expect((await queue.waitFor(later, { timeout: 15 })).result).toBe(15);
    });
  });

  it("a task added within the application's transaction through the pooler commits or rolls back with it", async () => {
    const { queue } = throughPooler("&preparedStatements=false", { listenUrl: direct.toString() });
    await queue.connect();
    const app = new pg.Client({ connectionString: bouncer.url(database) });
    await app.connect();
    try {
      const dropped = triple(10);
      await app.query("BEGIN");
      await queue.add(dropped, { tx: app });
      await app.query("ROLLBACK");
      const kept = triple(11);
      await app.query("BEGIN");
      await queue.add(kept, { tx: app });
      await app.query("COMMIT");
      await withWorker(queue, async () => {
        expect((await queue.waitFor(kept, { timeout: 15 })).result).toBe(33);
      });
      expect(await queue.getTask(dropped)).toBeNull();
    } finally {
      await app.end();
    }
  });
});

// The pooler's own failures while the server behind it restarts: a private server, stopped here.
describe.skipIf(!available || postgresBinaries() === null)(
  "behind a pooler in transaction mode, the server restarting",
  () => {
    it("the pooler's answers while it cannot reach the server are an outage: a call waits it out, or fails with BackendUnavailableError", async () => {
      const server = await PrivatePostgres.start();
      const pooler = await PrivatePgBouncer.start(server.url, 2, 1);
      const url = `${pooler.url("postgres")}?schema=pooled_restart&preparedStatements=false`;
      const patient = new Queue(new PostgresBackend({ url, unavailableAfter: 20 }), {
        name: "restart",
      });
      const hasty = new Queue(new PostgresBackend({ url, unavailableAfter: 1 }), {
        name: "restart",
      });
      try {
        await patient.connect();
        await hasty.connect();
        expect(await patient.add(triple(1))).toBe(true);
        server.stop("immediate");
        // The pooler now answers every statement with SQLSTATE 08P01 (it cannot connect, its
        // login to the server failing), which is not the server refusing the statement.
        const refused = await hasty.add(triple(2)).catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(BackendUnavailableError);
        expect(refused).toBeInstanceOf(BackendError);
        const waiting = patient.add(triple(3));
        await new Promise((resolve) => setTimeout(resolve, 1500));
        server.begin();
        expect(await waiting).toBe(true);
        expect(await patient.size()).toBe(2);
      } finally {
        await patient.close();
        await hasty.close();
        await pooler.stop();
        server.destroy();
      }
    });
  },
);
