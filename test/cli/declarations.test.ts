/**
 * The published declarations compile in a user's project whatever its
 * settings: every entry point imported by a strict project that checks
 * library declarations (`skipLibCheck: false`), with and without
 * `exactOptionalPropertyTypes` (Sheppy builds with it on; most projects
 * leave it off, and an optional property then also admits `undefined`).
 * Also against the newest Node.js types we know of (a development
 * dependency aliased as `node-types-newest`), besides the version the
 * project builds with: a user's project installs whichever is current.
 * (`npm test` builds before it runs the tests in this folder.)
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  exports: Record<string, unknown>;
};
// Inside the package, so that `sheppy/...` resolves to it as it does for a user (self-reference).
const dir = mkdtempSync(join(root, ".declarations-"));
const entries = Object.keys(pkg.exports)
  .filter((entry) => entry !== "./package.json")
  .map((entry) => `sheppy${entry.slice(1)}`);
writeFileSync(
  join(dir, "consumer.ts"),
  `${entries.map((entry, i) => `import * as entry${i} from "${entry}";`).join("\n")}
import { Queue, task } from "sheppy";
const add = task({ name: "declarations.add" }, (a: number, b: number) => a + b);
export const queue = new Queue("memory://");
export const sum: Promise<number | null> = queue.add(add(1, 2)).then(async () => (await queue.waitFor(add(1, 2), { timeout: 0 }).catch(() => null))?.result ?? null);
export const all = [${entries.map((_, i) => `entry${i}`).join(", ")}];
`,
);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A types root holding only the newest Node.js types, as `node`: given as `typeRoots`, every
// reference to Node's types (Sheppy's own, and those of pg and ioredis) resolves to it.
const newestTypes = join(dir, "newest-types");
mkdirSync(newestTypes);
symlinkSync(join(root, "node_modules", "node-types-newest"), join(newestTypes, "node"), "dir");
const newestVersion = (
  JSON.parse(
    readFileSync(join(root, "node_modules", "node-types-newest", "package.json"), "utf8"),
  ) as { version: string }
).version;

const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
const run = promisify(execFile);

describe("the published declarations in a user's project", () => {
  const variants = [
    { exact: false, newest: false },
    { exact: true, newest: false },
    { exact: false, newest: true },
  ];
  for (const { exact, newest } of variants) {
    const types = newest ? `@types/node ${newestVersion}` : "the project's @types/node";
    it(`compile with skipLibCheck off, strict, exactOptionalPropertyTypes ${exact ? "on" : "off"}, ${types}`, async () => {
      const args = [
        tsc,
        "--noEmit",
        "--strict",
        "--skipLibCheck",
        "false",
        "--module",
        "nodenext",
        "--moduleResolution",
        "nodenext",
        "--target",
        "es2022",
        ...(exact ? ["--exactOptionalPropertyTypes"] : []),
        ...(newest ? ["--typeRoots", newestTypes] : []),
        join(dir, "consumer.ts"),
      ];
      const outcome = await run(process.execPath, args, { cwd: dir }).then(
        () => "",
        (error: { stdout?: string }) => error.stdout ?? String(error),
      );
      expect(outcome).toBe("");
    }, 120_000);
  }
});
