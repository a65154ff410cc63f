/**
 * Per-file and per-test isolation: names derived from the test file, so files
 * can run in parallel against one shared server without seeing each other.
 */
import { createHash, randomBytes } from "node:crypto";
import { basename } from "node:path";

/** A short key unique to one test file (and this run), e.g. `memory-3fa2c1`. */
export function fileKey(fileUrl: string): string {
  const name = basename(new URL(fileUrl).pathname).replace(/\.test\.ts$/, "");
  const hash = createHash("sha1").update(fileUrl).digest("hex").slice(0, 6);
  return `${name}-${hash}-${randomBytes(3).toString("hex")}`;
}

let counter = 0;

/** A queue name unique within this process: `<prefix>-<n>`. */
export function uniqueName(prefix: string): string {
  counter++;
  return `${prefix}-${counter}`;
}
