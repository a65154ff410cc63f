/** The contract suite on PostgreSQL (the shared server; this file's tables live in a schema of its own). */
import { runBackendContract } from "sheppy/backend/contract";
import { PostgresBackend } from "sheppy/backends/postgres";
import { afterAll } from "vitest";
import { fileKey } from "../support/isolation.js";
import { dropSchema, POSTGRES_URL, schemaFor } from "../support/postgres.js";
import { requireService } from "../support/services.js";

const schema = schemaFor(fileKey(import.meta.url));
const available = await requireService("PostgreSQL", POSTGRES_URL);

runBackendContract(
  "postgres",
  // PostgreSQL runs no task inline: the instantProcessing request is not an option of its own.
  ({ instantProcessing: _inline, ...options }) =>
    new PostgresBackend({ url: POSTGRES_URL, schema, ...options }),
  // Skipped only when PostgreSQL is unreachable outside CI; under CI=true requireService fails instead.
  available ? {} : { skip: `PostgreSQL is not reachable at ${POSTGRES_URL}` },
);

afterAll(async () => {
  if (available) await dropSchema(schema);
});
