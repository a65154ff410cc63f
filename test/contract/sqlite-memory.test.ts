/** The contract suite on SQLite's in-memory database (`sqlite://:memory:`): a private database per backend, as tests use it. */
import { runBackendContract } from "sheppy/backend/contract";
import { SqliteBackend } from "sheppy/backends/sqlite";

runBackendContract(
  "sqlite in memory",
  // SQLite runs no task inline: the instantProcessing request is not an option of its own.
  ({ instantProcessing: _inline, ...options }) =>
    new SqliteBackend({ path: ":memory:", ...options }),
);
