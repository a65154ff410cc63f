/**
 * A pooled connection can report an error before the code that asked for it
 * runs: a new connection's first data may carry a server's "terminating
 * connection" right behind its "ready", and the pool drops its own error
 * listener as it hands the connection out. An error event nobody listens to
 * ends a Node.js process, so every connection the backend's pool hands out
 * is watched from the moment it is acquired.
 */
import pg from "pg";
import { PostgresBackend, Queue } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { fileKey } from "../../support/isolation.js";
import { dropSchema, POSTGRES_URL, schemaFor } from "../../support/postgres.js";
import { requireService } from "../../support/services.js";

const available = await requireService("PostgreSQL", POSTGRES_URL);
const schema = schemaFor(fileKey(import.meta.url));

afterAll(async () => {
  if (available) await dropSchema(schema);
});

// Skipped only when PostgreSQL is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("postgres: errors of pooled connections", () => {
  it("an error on a connection as it is handed out is noted, not thrown, and the next call works", async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 6 });
    const queue = new Queue(new PostgresBackend({ url: POSTGRES_URL, schema, pool }), {
      name: "acquired",
    });
    try {
      await queue.connect();
      let raised = 0;
      let unheard = 0;
      // The error comes right after the pool drops its own listener from the connection it hands
      // out — where a server's error parsed in the same data as "ready" lands, before any code of
      // the caller's runs.
      const failOnAcquire = (client: pg.PoolClient) => {
        if (raised >= 4) return;
        const drop = client.removeListener;
        client.removeListener = function (this: pg.PoolClient, event, listener) {
          const result = drop.call(this, event, listener);
          if (event === "error") {
            client.removeListener = drop;
            raised++;
            try {
              this.emit("error", new Error("terminating connection due to administrator command"));
            } catch {
              // An error event with no listener throws: in a connection's data handler that ends the process.
              unheard++;
            }
          }
          return result;
        };
      };
      pool.on("acquire", failOnAcquire);
      // Four calls at once take four connections, new ones among them: each gets the error as it is handed out.
      expect(await Promise.all([1, 2, 3, 4].map(() => queue.size()))).toEqual([0, 0, 0, 0]);
      expect(raised).toBe(4);
      expect(unheard).toBe(0);
      pool.off("acquire", failOnAcquire);
      expect(await queue.size()).toBe(0);
    } finally {
      await queue.close();
      await pool.end();
    }
  });
});
