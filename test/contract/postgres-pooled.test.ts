/**
 * The contract suite on PostgreSQL behind a pooler in transaction mode (a
 * private PgBouncer in front of the shared server), which shares server
 * connections between clients: statements are not prepared under names, and
 * notifications are listened for on a direct connection.
 */
import { runBackendContract } from "sheppy/backend/contract";
import { PostgresBackend } from "sheppy/backends/postgres";
import { afterAll } from "vitest";
import { fileKey } from "../support/isolation.js";
import { dropSchema, POSTGRES_URL, schemaFor } from "../support/postgres.js";
import { PrivatePgBouncer, pgbouncerBinary } from "../support/private-pgbouncer.js";
import { missingService, requireService } from "../support/services.js";

const schema = schemaFor(fileKey(import.meta.url));
const available =
  (await requireService("PostgreSQL", POSTGRES_URL)) &&
  (pgbouncerBinary() !== null || missingService("PgBouncer", "pgbouncer is not installed"));
const bouncer = available ? await PrivatePgBouncer.start(POSTGRES_URL) : undefined;
const direct = new URL(POSTGRES_URL);
direct.search = "";

runBackendContract(
  "postgres behind a transaction-mode pooler",
  ({ instantProcessing: _inline, ...options }) =>
    new PostgresBackend({
      url: `${bouncer?.url(direct.pathname.slice(1))}?poolSize=3`,
      schema,
      preparedStatements: false,
      listenUrl: direct.toString(),
      ...options,
    }),
  available ? {} : { skip: "PostgreSQL or PgBouncer is missing" },
);

afterAll(async () => {
  await bouncer?.stop();
  if (available) await dropSchema(schema);
});
