/**
 * The event log on PostgreSQL across processes: two worker processes run
 * 300 tasks while listeners here read the queue's log; each task's added,
 * started and completed arrive once each, in that order, and a listener that
 * stops and resumes after its last id reads exactly what one that never
 * stopped read. With eventCap 50 the queue keeps at most 50 events to
 * read. An add within the application's transaction appends its event
 * only when that transaction commits; one under REPEATABLE READ or
 * SERIALIZABLE commits although the log moved meanwhile, and its event
 * enters the log with the queue's next append. A waiting read ends at
 * disconnect.
 */
import type { ChildProcess } from "node:child_process";
import pg from "pg";
import { Queue } from "sheppy";
import { PostgresBackend } from "sheppy/backends/postgres";
import { afterAll, describe, expect, it } from "vitest";
import { readEvent } from "../../../src/task/lifecycle-event.js";
import { loggedWork } from "../../fixtures/event-log-tasks.js";
import {
  type LoggedEntry,
  readUntil,
  runInProcesses,
  typesByTask,
} from "../../support/event-log-processes.js";
import { fileKey } from "../../support/isolation.js";
import { dropSchema, POSTGRES_URL, schemaFor } from "../../support/postgres.js";
import { exited } from "../../support/processes.js";
import { requireService } from "../../support/services.js";

const schema = schemaFor(fileKey(import.meta.url));
const available = await requireService("PostgreSQL", POSTGRES_URL);
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  await Promise.all(children.map((child) => exited(child)));
  if (available) await dropSchema(schema);
});

const TASKS = 300;
const env = { TEST_BACKEND: "postgres", TEST_POSTGRES_URL: POSTGRES_URL, TEST_SCHEMA: schema };

function backend(eventCap?: number): PostgresBackend {
  return new PostgresBackend({ url: POSTGRES_URL, schema, ...(eventCap ? { eventCap } : {}) });
}

// Skipped only when PostgreSQL is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("postgres: the event log across processes", () => {
  it(`2 worker processes run ${TASKS} tasks: every task's added, started, completed arrive once each, in order; a listener resuming after its last id misses nothing`, async () => {
    const queue = new Queue(backend(), { name: "events-all" });
    const listener = backend();
    await listener.connect();
    await queue.connect();
    const run = await runInProcesses(queue, TASKS, 2, env, children);
    try {
      const all = TASKS * 3;
      // One listener reads the whole log without stopping…
      const whole = readUntil(
        listener,
        queue.name,
        null,
        100,
        (read) => read.length >= all,
        60_000,
      );
      // …another reads a third, stops, and a new connection resumes after the last id it read.
      const first = await readUntil(
        listener,
        queue.name,
        null,
        7,
        (read) => read.length >= TASKS,
        60_000,
      );
      const resumer = backend();
      await resumer.connect();
      let rest: LoggedEntry[];
      try {
        rest = await readUntil(
          resumer,
          queue.name,
          first[first.length - 1]!.id,
          13,
          (read) => first.length + read.length >= all,
          60_000,
        );
      } finally {
        await resumer.disconnect();
      }
      const entries = await whole;
      expect(entries, run.output()).toHaveLength(all);
      expect([...first, ...rest]).toEqual(entries);
      const ids = entries.map((e) => BigInt(e.id));
      expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
      const byTask = typesByTask(entries);
      expect([...byTask.keys()].sort()).toEqual([...run.tasks].sort());
      for (const id of run.tasks) {
        expect(byTask.get(id), id).toEqual(["added", "started", "completed"]);
      }
      // Nothing more comes: no event was appended twice.
      expect(
        await listener.readEvents(queue.name, { after: entries[all - 1]!.id, limit: 10 }),
      ).toEqual([]);
      expect(await run.stop(), run.output()).toEqual([0, 0]);
    } finally {
      await listener.disconnect();
      await queue.close();
    }
  });

  it(`with eventCap 50, the queue keeps at most 50 events once ${TASKS} tasks ran in 2 processes`, async () => {
    const queue = new Queue(backend(50), { name: "events-capped" });
    await queue.connect();
    const run = await runInProcesses(queue, TASKS, 2, { ...env, TEST_EVENT_CAP: "50" }, children);
    const pool = new pg.Pool({ connectionString: POSTGRES_URL });
    try {
      const done = await queue.waitFor(run.tasks, { timeout: 60 });
      expect(
        done.filter((t) => t.status !== "completed"),
        run.output(),
      ).toEqual([]);
      expect(await run.stop(), run.output()).toEqual([0, 0]);
      // Ids below the floor are trimmed even while the row that straddles it still holds them.
      const { rows } = await pool.query(
        `SELECT count(*)::int AS n FROM "${schema}".event_batches b,
           generate_series(b.first_id, b.last_id) AS id
         WHERE b.queue = $1 AND id >= (SELECT low FROM "${schema}".event_counts WHERE queue = $1)`,
        [queue.name],
      );
      expect(rows[0].n).toBeLessThanOrEqual(50);
      expect(rows[0].n).toBeGreaterThan(0);
      const kept = await queue.backend.readEvents(queue.name, { after: null, limit: 100 });
      expect(kept).toHaveLength(rows[0].n);
      // The newest are kept: the last task to finish has its completed event.
      const newest = kept[kept.length - 1]!;
      const last = readEvent(queue.name, newest.id, newest.body);
      expect(last.type).toBe("completed");
    } finally {
      await pool.end();
      await queue.close();
    }
  });

  it("a queue with no count row (never appended, or an earlier version's clear dropped it): a saved position waits and hears the next event; one beyond every id given is refused", async () => {
    const queue = new Queue(backend(), { name: "events-no-row" });
    const pool = new pg.Pool({ connectionString: POSTGRES_URL });
    try {
      await queue.add(loggedWork(10));
      const saved = await queue.backend.lastEventId(queue.name);
      expect(saved).not.toBeNull();
      await pool.query(`DELETE FROM ${schema}.event_batches WHERE queue = $1`, [queue.name]);
      await pool.query(`DELETE FROM ${schema}.event_counts WHERE queue = $1`, [queue.name]);
      expect(await queue.backend.readEvents(queue.name, { after: saved, limit: 10 })).toEqual([]);
      const next = loggedWork(11);
      await queue.add(next);
      const [heard] = await queue.backend.readEvents(queue.name, { after: saved, limit: 10 });
      expect(heard && readEvent(queue.name, heard.id, heard.body)).toEqual(
        expect.objectContaining({ type: "added", taskId: next.id }),
      );
      const { rows } = await pool.query<{ top: string }>(
        `SELECT max(top)::text AS top FROM ${schema}.event_counts`,
      );
      const beyond = String(Number(rows[0]!.top) + 1_000_000);
      await expect(
        queue.backend.readEvents("events-never-appended", { after: beyond, limit: 10 }),
      ).rejects.toThrow(/past the newest this log has given \(none yet\)/);
    } finally {
      await pool.end();
      await queue.close();
    }
  });

  it("disconnect() ends a waiting read at once with nothing", async () => {
    const reader = backend();
    await reader.connect();
    const started = Date.now();
    const waiting = reader.readEvents("events-idle", { after: null, limit: 10, waitMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await reader.disconnect();
    expect(await waiting).toEqual([]);
    // Far sooner than the read's own minute.
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it("an add within a transaction that rolls back leaves no event; one that commits leaves its added event, appended at the commit", async () => {
    const queue = new Queue(backend(), { name: "events-tx" });
    await queue.connect();
    const pool = new pg.Pool({ connectionString: POSTGRES_URL });
    const client = await pool.connect();
    try {
      const rolledBack = loggedWork(1);
      await client.query("BEGIN");
      expect(await queue.add(rolledBack, { tx: client })).toBe(true);
      await client.query("ROLLBACK");
      expect(await queue.backend.readEvents(queue.name, { after: null, limit: 10 })).toEqual([]);

      const committed = loggedWork(2);
      const meanwhile = loggedWork(3);
      await client.query("BEGIN");
      expect(await queue.add(committed, { tx: client })).toBe(true);
      // Not before the commit; and the open transaction holds up no other add of the queue.
      expect(await queue.backend.readEvents(queue.name, { after: null, limit: 10 })).toEqual([]);
      expect(await queue.add(meanwhile)).toBe(true);
      await client.query("COMMIT");
      const entries = await queue.backend.readEvents(queue.name, { after: null, limit: 10 });
      expect(entries.map((e) => readEvent(queue.name, e.id, e.body))).toEqual([
        expect.objectContaining({ type: "added", taskId: meanwhile.id }),
        expect.objectContaining({ type: "added", taskId: committed.id }),
      ]);
    } finally {
      client.release();
      await pool.end();
      await queue.close();
    }
  });

  for (const level of ["REPEATABLE READ", "SERIALIZABLE"]) {
    it(`an add within a ${level} transaction commits although the queue's log moved meanwhile; its added event enters the log with the queue's next append, before that append's own`, async () => {
      const queue = new Queue(backend(), {
        name: `events-tx-${level.split(" ")[0]!.toLowerCase()}`,
      });
      await queue.connect();
      const pool = new pg.Pool({ connectionString: POSTGRES_URL });
      const client = await pool.connect();
      try {
        const committed = loggedWork(1);
        const meanwhile = loggedWork(2);
        const next = loggedWork(3);
        await client.query(`BEGIN ISOLATION LEVEL ${level}`);
        // The transaction's snapshot is taken by its first statement: before the append below.
        await client.query("SELECT 1");
        expect(await queue.add(committed, { tx: client })).toBe(true);
        expect(await queue.add(meanwhile)).toBe(true);
        await client.query("COMMIT");
        expect((await queue.getTask(committed))?.status).toBe("pending");
        const types = async () =>
          (await queue.backend.readEvents(queue.name, { after: null, limit: 10 })).map((e) => {
            const event = readEvent(queue.name, e.id, e.body);
            return [event.type, event.taskId];
          });
        expect(await types()).toEqual([["added", meanwhile.id]]);
        expect(await queue.add(next)).toBe(true);
        expect(await types()).toEqual([
          ["added", meanwhile.id],
          ["added", committed.id],
          ["added", next.id],
        ]);
      } finally {
        client.release();
        await pool.end();
        await queue.close();
      }
    });
  }
});
