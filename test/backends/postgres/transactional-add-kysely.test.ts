/**
 * Adding within a Kysely transaction through the wrapper the PostgreSQL docs
 * show (Sheppy depends on no query builder): the task commits or rolls back
 * with the application's own rows.
 */
import { CompiledQuery, type Generated, Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { PostgresBackend, Queue, task } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { fileKey } from "../../support/isolation.js";
import { dropSchema, POSTGRES_URL, schemaFor } from "../../support/postgres.js";
import { requireService } from "../../support/services.js";

const available = await requireService("PostgreSQL", POSTGRES_URL);
const schema = schemaFor(fileKey(import.meta.url));
const confirmOrder = task({ name: "kysely.confirm-order" }, (orderId: number) => orderId);

interface Database {
  [table: string]: { id: Generated<number>; item: string };
}

// Skipped only when PostgreSQL is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("adding within a Kysely transaction", () => {
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: POSTGRES_URL, max: 2 }) }),
  });
  const orders = `${schema}.orders`;

  afterAll(async () => {
    await db.destroy();
    if (available) await dropSchema(schema);
  });

  it("the task is there with the row when the transaction commits, and neither when it rolls back", async () => {
    const queue = new Queue(new PostgresBackend({ url: POSTGRES_URL, schema }), { name: "orders" });
    await queue.connect();
    await sql`CREATE TABLE ${sql.table(orders)} (id serial PRIMARY KEY, item text NOT NULL)`.execute(
      db,
    );
    const add = async (item: string, fail: boolean) => {
      const t = confirmOrder(0);
      await db
        .transaction()
        .execute(async (trx) => {
          await trx.insertInto(orders).values({ item }).execute();
          const tx = {
            query: (text: string, values: unknown[] = []) =>
              trx.executeQuery(CompiledQuery.raw(text, values)),
          };
          await queue.add(t, { tx });
          if (fail) throw new Error("the order could not be placed");
        })
        .catch(() => undefined);
      return t;
    };
    const kept = await add("kept", false);
    const dropped = await add("dropped", true);
    const rows = await sql<{ item: string }>`SELECT item FROM ${sql.table(orders)}`.execute(db);
    expect(rows.rows.map((row) => row.item)).toEqual(["kept"]);
    expect((await queue.getTask(kept))?.status).toBe("pending");
    expect(await queue.getTask(dropped)).toBeNull();
    await queue.close();
  });
});
