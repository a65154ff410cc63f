/**
 * The PostgreSQL event log keeps each append as one row of bodies: random
 * appends under changing caps, and clears, read back as a plain list of the
 * events a reader must see (the property in ../../support/event-log-model.ts).
 */
import fc from "fast-check";
import { PostgresBackend } from "sheppy/backends/postgres";
import { afterAll, describe, it } from "vitest";
import { logMatchesModel } from "../../support/event-log-model.js";
import { fileKey } from "../../support/isolation.js";
import { dropSchema, POSTGRES_URL, schemaFor } from "../../support/postgres.js";
import { requireService } from "../../support/services.js";

const schema = schemaFor(fileKey(import.meta.url));
const available = await requireService("PostgreSQL", POSTGRES_URL);
const backends = new Map<number, PostgresBackend>();

/** One backend per cap, all on the file's schema: each appends under its own cap. */
async function withCap(cap: number): Promise<PostgresBackend> {
  let backend = backends.get(cap);
  if (!backend) {
    backend = new PostgresBackend({ url: POSTGRES_URL, schema, eventCap: cap });
    await backend.connect();
    backends.set(cap, backend);
  }
  return backend;
}

afterAll(async () => {
  for (const backend of backends.values()) await backend.disconnect();
  if (available) await dropSchema(schema);
});

let run = 0;

// Skipped only when PostgreSQL is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("postgres: the event log as rows of appends", () => {
  it("random appends under changing caps, and clears, read back as the newest `cap` events of a plain list", async () => {
    await fc.assert(
      logMatchesModel(withCap, () => `q${++run}`),
      { numRuns: 40 },
    );
  });
});
