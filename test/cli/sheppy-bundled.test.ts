/**
 * Sheppy copied into an application's bundle: esbuild bundles a small app
 * with the built package inside it — minified, as an ES module and as
 * CommonJS — and the bundle alone is run from an empty folder, as in a
 * container image (only better-sqlite3, a native module no bundler copies,
 * sits in node_modules there). The package must read no file of its own:
 * its Lua scripts and migrations run on Redis, PostgreSQL and SQLite; a
 * stored error keeps its class's name through the minifier; the parts that
 * do need files (the dashboard, sandboxed tasks) say in one line to keep
 * sheppy external. (`npm test` builds before it runs the tests in this folder.)
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileKey } from "../support/isolation.js";
import { dropSchema, POSTGRES_URL, schemaFor } from "../support/postgres.js";
import { deleteRedisPrefix, REDIS_URL } from "../support/redis.js";
import { requireService } from "../support/services.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const redisUp = await requireService("Redis", REDIS_URL);
const postgresUp = await requireService("PostgreSQL", POSTGRES_URL);
const key = fileKey(import.meta.url);
const schema = schemaFor(key);
let dir: string;

const APP = `
import { createHttpHandler } from "sheppy/http";
import { Queue, task, Worker } from "sheppy";

const add = task({ name: "bundled.add" }, (a: number, b: number) => a + b);
const slow = task({ name: "bundled.slow", timeout: 0.05 }, () => new Promise((r) => setTimeout(r, 2000)));
const boxed = task({ name: "bundled.boxed", sandbox: true }, (n: number) => n * 2);

async function roundTrip(url: string) {
  const queue = new Queue(url, { name: "bundled" });
  const done = add(2, 3);
  const failed = slow();
  await queue.add([done, failed]);
  const worker = new Worker(queue, { concurrency: 2, handleSignals: false });
  await worker.work({ oneshot: true });
  const [a, b] = await queue.waitFor([done, failed], { timeout: 20 });
  await queue.close();
  return { result: a.result, status: b.status, errorType: b.error?.type };
}

async function main() {
  const out: Record<string, unknown> = {};
  const [memoryUrl, redisUrl, postgresUrl, sqliteUrl] = process.argv.slice(2);
  out.memory = await roundTrip(memoryUrl!);
  if (redisUrl !== "-") out.redis = await roundTrip(redisUrl!);
  if (postgresUrl !== "-") out.postgres = await roundTrip(postgresUrl!);
  out.sqlite = await roundTrip(sqliteUrl!);

  const handler = createHttpHandler("memory://");
  const page = await handler(new Request("http://localhost/"));
  out.dashboard = { status: page.status, body: await page.text() };
  await handler.close();

  const queue = new Queue("memory://", { name: "boxed" });
  const boxedTask = boxed(4);
  await queue.add(boxedTask);
  const boxedDone = await queue.waitFor(boxedTask, { timeout: 10 });
  out.sandbox = { status: boxedDone.status, message: boxedDone.error?.message };
  await queue.close();
  console.log(JSON.stringify(out));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sheppy-bundled-"));
  mkdirSync(join(dir, "app", "node_modules"), { recursive: true });
  symlinkSync(root, join(dir, "app", "node_modules", "sheppy"), "dir");
  writeFileSync(join(dir, "app", "main.ts"), APP);
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (redisUp) await deleteRedisPrefix(key);
  if (postgresUp) await dropSchema(schema);
});

/** Bundles the app with sheppy inside, minified, into `deploy-<format>/`, the only file there but better-sqlite3. */
async function bundleApp(format: "esm" | "cjs"): Promise<string> {
  const deploy = join(dir, `deploy-${format}`);
  mkdirSync(join(deploy, "node_modules"), { recursive: true });
  symlinkSync(
    join(root, "node_modules", "better-sqlite3"),
    join(deploy, "node_modules", "better-sqlite3"),
    "dir",
  );
  const file = join(deploy, format === "esm" ? "main.mjs" : "main.cjs");
  await build({
    entryPoints: [join(dir, "app", "main.ts")],
    outfile: file,
    bundle: true,
    minify: true,
    format,
    platform: "node",
    target: "node20",
    // Native, and loaded only by a sqlite:// backend: no bundler copies it.
    external: ["better-sqlite3"],
    // CommonJS packages inside an ES module bundle call require(); esbuild's documented fix.
    banner:
      format === "esm"
        ? {
            js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);',
          }
        : {},
    logLevel: "silent",
  });
  return file;
}

function runBundle(file: string, tag: string) {
  const run = spawnSync(
    process.execPath,
    [
      file,
      "memory://",
      redisUp ? `${REDIS_URL}?prefix=${key}-${tag}` : "-",
      postgresUp
        ? `${POSTGRES_URL}${POSTGRES_URL.includes("?") ? "&" : "?"}schema=${schema}_${tag}`
        : "-",
      `sqlite://${join(dir, `${tag}.db`)}`,
    ],
    { cwd: join(file, ".."), encoding: "utf8", timeout: 60_000 },
  );
  return run;
}

describe("sheppy bundled into an application, run without its package", () => {
  it.each(["esm", "cjs"] as const)(
    "%s, minified: every backend runs tasks; names survive; file-bound parts say to keep sheppy external",
    async (format) => {
      const file = await bundleApp(format);
      const run = runBundle(file, format);
      expect(run.stderr).not.toMatch(/ENOENT|Invalid URL/);
      expect(run.status, run.stderr).toBe(0);
      const out = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
      const expected = { result: 5, status: "failed", errorType: "TaskTimeoutError" };
      expect(out.memory).toEqual(expected);
      if (redisUp) expect(out.redis).toEqual(expected);
      if (postgresUp) expect(out.postgres).toEqual(expected);
      expect(out.sqlite).toEqual(expected);
      const page = out.dashboard as { status: number; body: string };
      expect(page.status).toBe(404);
      expect(JSON.stringify(page.body)).toMatch(
        /a bundler copied sheppy into .*mark sheppy external/,
      );
      const sandbox = out.sandbox as { status: string; message: string };
      expect(sandbox.status).toBe("failed");
      expect(sandbox.message).toMatch(/a bundler copied sheppy into .*mark sheppy external/);
    },
  );
});
