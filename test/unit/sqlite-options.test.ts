/**
 * The SQLite backend's URL and options, and what a user sees when the
 * better-sqlite3 package is missing. Storage itself is covered by the
 * contract suite and test/backends/sqlite.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { BackendUrlError, InvalidOptionError, SqliteBackend } from "sheppy";
import { backendFromUrl } from "sheppy/backend";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { parseSqliteUrl } from "../../src/backends/sqlite/sqlite-url.js";
import { errorOf } from "../support/error-of.js";

beforeEach(() => {
  vi.stubEnv("SHEPPY_BACKEND_URL", undefined);
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("sqlite:// URLs and options", () => {
  test("absolute, relative and in-memory paths, with Sheppy's parameters", () => {
    const absolute = backendFromUrl(
      "sqlite:///var/lib/app/tasks.db?synchronous=full&busyTimeout=250&maxPayloadBytes=2048",
    ) as SqliteBackend;
    expect(absolute).toBeInstanceOf(SqliteBackend);
    expect(absolute.path).toBe("/var/lib/app/tasks.db");
    expect(absolute.synchronous).toBe("full");
    expect(absolute.maxPayloadBytes).toBe(2048);
    expect(absolute.capabilities).toMatchObject({
      crossProcess: true,
      durable: true,
      leases: true,
    });

    const relative = backendFromUrl("sqlite://data/tasks.db") as SqliteBackend;
    expect(relative.path).toBe("data/tasks.db");
    expect(relative.synchronous).toBe("normal");

    const memory = backendFromUrl("sqlite://:memory:") as SqliteBackend;
    expect(memory.path).toBe(":memory:");
    expect(memory.eventCap).toBe(10_000);
    expect((backendFromUrl("sqlite://:memory:?eventCap=0") as SqliteBackend).eventCap).toBe(0);
    expect(() => backendFromUrl("sqlite://:memory:?eventCap=x")).toThrow(
      /backend URL parameter eventCap must be a whole number ≥ 0/,
    );
    expect(memory.capabilities).toMatchObject({ crossProcess: false, durable: false });
  });

  test("the synchronous level is read in either case, as SQLite reads it", () => {
    expect((backendFromUrl("sqlite://a.db?synchronous=FULL") as SqliteBackend).synchronous).toBe(
      "full",
    );
  });

  test("a Sheppy parameter in another case (?Synchronous=) names the one meant", () => {
    for (const [name, meant] of [
      ["Synchronous", "synchronous"],
      ["busytimeout", "busyTimeout"],
      ["MAXPAYLOADBYTES", "maxPayloadBytes"],
    ]) {
      const error = errorOf(() => backendFromUrl(`sqlite:///var/lib/tasks.db?${name}=5`));
      expect(error).toBeInstanceOf(BackendUrlError);
      expect(error.message).toBe(
        `Invalid SqliteBackend option url 'sqlite:///var/lib/tasks.db?${name}=5': unknown parameter '${name}'; did you mean '${meant}'? (Sheppy's parameters are case-sensitive)`,
      );
      vi.stubEnv("SHEPPY_BACKEND_URL", `sqlite://:memory:?${name}=5`);
      expect(errorOf(() => new SqliteBackend()).message).toContain(
        `Invalid SHEPPY_BACKEND_URL 'sqlite://:memory:?${name}=5': unknown parameter '${name}'; did you mean '${meant}'?`,
      );
    }
  });

  test("percent-encoded characters in the path are decoded", () => {
    expect(parseSqliteUrl("sqlite:///tmp/my%20tasks%3F.db", "url").path).toBe("/tmp/my tasks?.db");
  });

  test("any path survives being written into a URL with encodeURIComponent per segment", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.includes("\0")),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        (segments) => {
          const path = `/${segments.join("/")}`;
          const url = `sqlite:///${segments.map(encodeURIComponent).join("/")}`;
          expect(parseSqliteUrl(url, "url").path).toBe(path);
        },
      ),
    );
  });

  test("bad URLs and options are one-line errors that say what and where", () => {
    const cases: [() => unknown, RegExp][] = [
      [() => backendFromUrl("sqlite://"), /names no file: write sqlite:\/\/\/absolute\/path\.db/],
      [
        () => backendFromUrl("sqlite://a.db?synchronous=off"),
        /synchronous must be normal or full \(got 'off'\)/,
      ],
      [
        () => backendFromUrl("sqlite://a.db?busyTimeout=0"),
        /busyTimeout must be a whole number ≥ 1 \(got '0'\)/,
      ],
      [() => backendFromUrl("sqlite://a.db?journal=delete"), /unknown parameter 'journal'/],
      [() => backendFromUrl("sqlite://bad%zz.db"), /not valid percent-encoding/],
      [
        () => backendFromUrl("sqlite:///tmp/q.db#part"),
        /has no #fragment \(write a '#' in a file name as %23\)/,
      ],
      [() => new SqliteBackend({ path: "" }), /option path must be a file path or ":memory:"/],
      [
        () => new SqliteBackend({ path: "a.db", synchronous: "off" as "full" }),
        /option synchronous must be "normal" or "full"/,
      ],
      [
        () => new SqliteBackend({ path: "a.db", busyTimeout: -1 }),
        /option busyTimeout must be a whole number of milliseconds/,
      ],
      [() => new SqliteBackend(), /new SqliteBackend\(\) needs a path/],
      [
        () => backendFromUrl("sqlite:///tmp/a%00b.db"),
        /'sqlite:\/\/\/tmp\/a%00b\.db': the path holds a NUL character \(%00\)/,
      ],
      [
        () => new SqliteBackend({ path: "a.db", url: "sqlite://b.db" }),
        /SqliteBackend: give either option path or option url, not both \(got path "a\.db" and url "sqlite:\/\/b\.db"\)/,
      ],
      [
        () => new SqliteBackend({ path: "a.db", eventCap: -1 }),
        /SqliteBackend option eventCap must be an integer ≥ 0.*\(got -1\)/,
      ],
    ];
    for (const [fn, message] of cases) {
      const error = errorOf(fn);
      expect(error).toSatisfy(
        (e: Error) => e instanceof BackendUrlError || e instanceof InvalidOptionError,
      );
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain("\n");
    }
  });

  test("without a path, SHEPPY_BACKEND_URL is used when it names SQLite", () => {
    vi.stubEnv("SHEPPY_BACKEND_URL", "sqlite:///srv/tasks.db?synchronous=full");
    const backend = new SqliteBackend();
    expect(backend.path).toBe("/srv/tasks.db");
    expect(backend.synchronous).toBe("full");
  });

  test("a missing better-sqlite3 package is a one-line error naming the package to install", () => {
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const script = `
      import { Queue } from "./src/index.ts";
      const queue = new Queue("sqlite://:memory:");
      try { await queue.backend.connect(); console.log("connected"); }
      catch (error) { console.log(error.constructor.name + ": " + error.message); }`;
    const run = spawnSync(
      process.execPath,
      [
        "--import",
        "./test/fixtures/hide-better-sqlite3.mjs",
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        script,
      ],
      { cwd: root, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } },
    );
    expect(run.stdout.trim()).toBe(
      "BackendError: sqlite:// needs the better-sqlite3 package (version 12): npm install better-sqlite3@12",
    );
    // A child process that compiles the whole source with tsx: seconds on a loaded machine.
  }, 60_000);
});
