/**
 * The SQLite event log against a plain list: random appends under changing
 * caps, and clears, read back as the events a reader must see (the property
 * in ../../support/event-log-model.ts).
 */
import fc from "fast-check";
import { SqliteBackend } from "sheppy/backends/sqlite";
import { afterAll, describe, it } from "vitest";
import { logMatchesModel } from "../../support/event-log-model.js";
import { fileKey } from "../../support/isolation.js";
import { sqliteTestDir } from "../../support/sqlite.js";

const files = sqliteTestDir(fileKey(import.meta.url));
const backends = new Map<number, SqliteBackend>();

/** One backend per cap, all on one file: each appends under its own cap. */
async function withCap(cap: number): Promise<SqliteBackend> {
  let backend = backends.get(cap);
  if (!backend) {
    backend = new SqliteBackend({ path: files.path("events.db"), eventCap: cap });
    await backend.connect();
    backends.set(cap, backend);
  }
  return backend;
}

afterAll(async () => {
  for (const backend of backends.values()) await backend.disconnect();
  files.remove();
});

let run = 0;

describe("sqlite: the event log against a plain list", () => {
  it("random appends under changing caps, and clears, read back as the newest `cap` events of a plain list", async () => {
    await fc.assert(
      logMatchesModel(withCap, () => `q${++run}`),
      { numRuns: 60 },
    );
  });
});
