/**
 * Roles without a worker's rights. A role that may read the schema but not
 * write it (a dashboard's read-only role, given to a worker by mistake)
 * still reads, but a worker with it stops at start saying what to grant,
 * instead of starting and having every claim refused and retried for ever.
 * A role that may not use the schema at all is refused at connect as such,
 * not as a server that cannot be reached.
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
import { createHttpHandler } from "sheppy/http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileKey } from "../../support/isolation.js";
import { dropSchema, POSTGRES_URL, schemaFor } from "../../support/postgres.js";
import { requireService } from "../../support/services.js";

const available = await requireService("PostgreSQL", POSTGRES_URL);
const schema = schemaFor(fileKey(import.meta.url));
// Roles belong to the whole server: named after this file, dropped after it.
const reader = `${schema}_reader`.slice(0, 63);
const stranger = `${schema}_stranger`.slice(0, 63);
// A role an administrator gave a schema of its own, with no CREATE on the database.
const schemaOwner = `${schema}_owner`.slice(0, 63);
const ownedSchema = `${schema}_own`.slice(0, 63);

const double = task({ name: "roles.double" }, (n: number) => n * 2);

function urlAs(role: string): string {
  const url = new URL(POSTGRES_URL);
  url.username = role;
  url.password = "";
  return url.toString();
}

async function admin(...statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

async function dropRoles(): Promise<void> {
  for (const role of [reader, stranger, schemaOwner]) {
    await admin(
      `DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '${role}') THEN EXECUTE 'DROP OWNED BY "${role}"'; EXECUTE 'DROP ROLE "${role}"'; END IF; END $$`,
    );
  }
}

describe.skipIf(!available)("postgres: roles without a worker's rights", () => {
  beforeAll(async () => {
    if (!available) return;
    await dropRoles();
    const owner = new Queue(new PostgresBackend({ url: POSTGRES_URL, schema }), { name: "roles" });
    await owner.add(double(21));
    await owner.close();
    await admin(
      `CREATE ROLE "${reader}" LOGIN`,
      `CREATE ROLE "${stranger}" LOGIN`,
      `GRANT USAGE ON SCHEMA "${schema}" TO "${reader}"`,
      `GRANT SELECT ON ALL TABLES IN SCHEMA "${schema}" TO "${reader}"`,
    );
  });

  afterAll(async () => {
    if (!available) return;
    await dropSchema(schema);
    await dropRoles();
  });

  it("a read-only role reads the queue, and a worker with it stops at start saying what to grant", async () => {
    const queue = new Queue(new PostgresBackend({ url: urlAs(reader), schema }), { name: "roles" });
    try {
      expect((await queue.stats()).pending).toBe(1);
      const worker = new Worker(queue, { concurrency: 1 });
      const refused = await worker.work({ oneshot: true }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(BackendError);
      expect(refused).not.toBeInstanceOf(BackendUnavailableError);
      const message = (refused as Error).message;
      expect(message).toMatch(
        new RegExp(
          `^PostgreSQL role "${reader}" may not do a worker's work in schema "${schema}": it lacks INSERT, UPDATE, DELETE on tables \\w+, \\w+, \\w+ and \\d+ more; USAGE on sequences `,
        ),
      );
      expect(message).toContain(
        `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "${schema}" TO "${reader}"`,
      );
      expect(message).not.toContain("\n");
      // Nothing was claimed: the task still waits.
      expect((await queue.stats()).pending).toBe(1);
    } finally {
      await queue.close();
    }
  });

  it("a read role granted before the worker list existed reads counts and queues all the same: its workers read as unknown, and queue.workers() says why", async () => {
    await admin(`REVOKE SELECT ON "${schema}".workers FROM "${reader}"`);
    const backend = new PostgresBackend({ url: urlAs(reader), schema });
    const queue = new Queue(backend, { name: "roles" });
    try {
      const handler = createHttpHandler(backend);
      const get = async (path: string) => {
        const response = await handler(new Request(`http://127.0.0.1${path}`));
        return { status: response.status, body: await response.json() };
      };
      expect(await get("/queues")).toEqual({ status: 200, body: { roles: 1 } });
      expect(await get("/roles/stats")).toMatchObject({
        status: 200,
        body: { pending: 1, workers: null },
      });
      await expect(queue.workers()).rejects.toThrow(/permission denied for table workers/);
    } finally {
      await queue.close();
    }
  });

  it("granted a worker's rights, the same role works", async () => {
    await admin(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "${schema}" TO "${reader}"`,
      `GRANT USAGE ON ALL SEQUENCES IN SCHEMA "${schema}" TO "${reader}"`,
    );
    const queue = new Queue(new PostgresBackend({ url: urlAs(reader), schema }), { name: "roles" });
    try {
      const summary = await new Worker(queue, { concurrency: 1 }).work({ oneshot: true });
      expect(summary.processed).toBe(1);
    } finally {
      await queue.close();
    }
  });

  it("without EXECUTE on the schema's functions (revoked from PUBLIC), a worker stops at start; the grants its message gives are enough", async () => {
    const owner = new Queue(new PostgresBackend({ url: POSTGRES_URL, schema }), { name: "roles" });
    await owner.add(double(5));
    await owner.close();
    await admin(
      `REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA "${schema}" FROM PUBLIC`,
      `REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA "${schema}" FROM "${reader}"`,
    );
    const queue = new Queue(new PostgresBackend({ url: urlAs(reader), schema }), { name: "roles" });
    try {
      const refused = await new Worker(queue, { concurrency: 1 }).work({ oneshot: true }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(BackendError);
      const message = (refused as Error).message;
      expect(message).toContain("lacks EXECUTE on functions");
      const add = await queue.add(double(6)).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect((add as Error).message).toMatch(
        /\(SQLSTATE 42501\): the role lacks a right on Sheppy's schema; an application that adds tasks needs what a worker needs/,
      );
      // Run what the message says to run, as the migrating role would.
      const grants = /e\.g\. (.*) \(see the PostgreSQL backend's docs on roles\)$/.exec(
        message,
      )![1]!;
      await admin(...grants.split("; "));
      const summary = await new Worker(queue, { concurrency: 1 }).work({ oneshot: true });
      expect(summary.processed).toBe(1);
    } finally {
      await queue.close();
      await admin(`GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA "${schema}" TO PUBLIC`);
    }
  });

  it("a table of the application's in the schema, which the role may not touch, does not stop a worker: only Sheppy's tables are checked", async () => {
    await admin(
      `CREATE TABLE "${schema}".app_orders (id bigserial PRIMARY KEY, item text)`,
      `REVOKE ALL ON "${schema}".app_orders FROM "${reader}"`,
      `REVOKE ALL ON SEQUENCE "${schema}".app_orders_id_seq FROM "${reader}"`,
    );
    const queue = new Queue(new PostgresBackend({ url: urlAs(reader), schema }), { name: "roles" });
    try {
      await queue.add(double(4));
      const summary = await new Worker(queue, { concurrency: 1 }).work({ oneshot: true });
      expect(summary.processed).toBe(1);
    } finally {
      await queue.close();
      await admin(`DROP TABLE "${schema}".app_orders`);
    }
  });

  it("a read-only server (a replica, default_transaction_read_only): a worker stops at start saying so; a schema to create is refused as such, not as an outage", async () => {
    const readOnly = (url: string) => {
      const u = new URL(url);
      u.searchParams.set("options", "-c default_transaction_read_only=on");
      return u.toString();
    };
    const queue = new Queue(new PostgresBackend({ url: readOnly(POSTGRES_URL), schema }), {
      name: "roles",
    });
    try {
      await queue.stats();
      const refused = await new Worker(queue, { concurrency: 1 }).work({ oneshot: true }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(BackendError);
      expect(refused).not.toBeInstanceOf(BackendUnavailableError);
      expect((refused as Error).message).toMatch(
        /takes no writes here \(a read-only replica, or default_transaction_read_only set for this role or in the URL\): a worker claims and stores tasks; point it at the primary$/,
      );
      // A producer there is told the same, not only the server's refusal.
      const add = await queue.add(double(1)).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(add).toBeInstanceOf(BackendError);
      expect((add as Error).message).toMatch(
        /^add: PostgreSQL refused the call: .* \(SQLSTATE 25006\): this server or role takes no writes .*; point whatever adds or changes tasks at the primary$/,
      );
    } finally {
      await queue.close();
    }
    const fresh = `${schema}_ro`.slice(0, 63);
    const unmigrated = new Queue(
      new PostgresBackend({ url: readOnly(POSTGRES_URL), schema: fresh }),
      {
        name: "roles",
      },
    );
    try {
      const refused = await unmigrated.connect().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(BackendError);
      expect(refused).not.toBeInstanceOf(BackendUnavailableError);
      expect((refused as Error).message).toContain("takes no writes (a read-only replica");
    } finally {
      await unmigrated.close();
      await dropSchema(fresh);
    }
  });

  it("a role that may not use the schema is refused at connect as such, not as an outage", async () => {
    const queue = new Queue(new PostgresBackend({ url: urlAs(stranger), schema }), {
      name: "roles",
    });
    try {
      const refused = await queue.connect().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(BackendError);
      expect(refused).not.toBeInstanceOf(BackendUnavailableError);
      expect((refused as Error).message).toMatch(
        new RegExp(
          `refused this role the schema "${schema}": permission denied for schema ${schema} \\(SQLSTATE 42501\\); grant the role USAGE on the schema`,
        ),
      );
      // The grants it gives, run as given by the role that migrated the schema, are enough.
      const grants =
        /as the role that migrated it: (.*) \(see the PostgreSQL backend's docs on roles\)$/.exec(
          (refused as Error).message,
        )![1]!;
      expect(grants).toContain(`TO "${stranger}"`);
      await admin(...grants.split("; "));
      await queue.close();
      const granted = new Queue(new PostgresBackend({ url: urlAs(stranger), schema }), {
        name: "roles",
      });
      try {
        await granted.add(double(7));
        expect(await granted.size()).toBeGreaterThan(0);
      } finally {
        await granted.close();
      }
    } finally {
      await queue.close();
    }
  });

  it("a role that owns a schema an administrator made for it, with no CREATE on the database, migrates it and works", async () => {
    await admin(
      `CREATE ROLE "${schemaOwner}" LOGIN`,
      `CREATE SCHEMA "${ownedSchema}" AUTHORIZATION "${schemaOwner}"`,
    );
    const queue = new Queue(new PostgresBackend({ url: urlAs(schemaOwner), schema: ownedSchema }), {
      name: "roles",
    });
    try {
      const t = double(4);
      expect(await queue.add(t)).toBe(true);
      expect((await queue.getTask(t))?.status).toBe("pending");
    } finally {
      await queue.close();
    }
  });
});
