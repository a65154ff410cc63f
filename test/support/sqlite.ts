/**
 * SQLite for the multi-process tests: a temporary directory of a test file's
 * own, holding its database file(s) and the execution records, removed when
 * the file's tests end. Needs no server.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export interface SqliteTestDir {
  /** The directory (absolute). */
  readonly dir: string;
  /** `file:` URL of the directory: where `recordedWork` appends its execution records. */
  readonly recorderUrl: string;
  /** Absolute path of a database file `name` in the directory. */
  path(name: string): string;
  /** `sqlite:///…` URL of that file. */
  url(name: string): string;
  /** Deletes the directory and everything in it. */
  remove(): void;
}

/** A fresh directory under the OS temporary directory, named after `key` (a `fileKey`). */
export function sqliteTestDir(key: string): SqliteTestDir {
  const dir = mkdtempSync(join(tmpdir(), `sheppy-${key}-`));
  const path = (name: string) => join(dir, name);
  return {
    dir,
    recorderUrl: pathToFileURL(dir).href,
    path,
    url: (name) => `sqlite://${path(name)}`,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
