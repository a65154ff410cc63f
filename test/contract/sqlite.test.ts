/** The contract suite on SQLite: a database file of this test file's own, in a temporary directory removed afterwards. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBackendContract } from "sheppy/backend/contract";
import { SqliteBackend } from "sheppy/backends/sqlite";
import { afterAll } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "sheppy-sqlite-contract-"));
const path = join(dir, "contract.db");

runBackendContract(
  "sqlite",
  // SQLite runs no task inline: the instantProcessing request is not an option of its own.
  ({ instantProcessing: _inline, ...options }) => new SqliteBackend({ path, ...options }),
);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
