/**
 * The PostgreSQL backend without a server: its URL and options, names it
 * derives from the schema, notification payloads, and the settle decisions
 * (`../sql/settle-plan.ts`) that mirror the memory reference. Connecting is covered
 * by test/backends/postgres and the contract suite.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { BackendUrlError, InvalidOptionError, PostgresBackend, Queue, task } from "sheppy";
import { backendFromUrl } from "sheppy/backend";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { finishedPayloads } from "../../src/backends/postgres/notifications.js";
import { splitPostgresUrl } from "../../src/backends/postgres/postgres-url.js";
import { CLAIMED, FINISHED } from "../../src/backends/postgres/record-codec.js";
import {
  channelsOf,
  checkSchemaName,
  migrationLockKey,
} from "../../src/backends/postgres/schema-name.js";
import {
  eventsWritten,
  type LockedTask,
  planSettle,
  prepareSettlements,
} from "../../src/backends/sql/settle-plan.js";
import { errorOf } from "../support/error-of.js";

/** A PostgreSQL backend made without a url option, from `url` in SHEPPY_BACKEND_URL. */
function fromEnvironment(url: string): PostgresBackend {
  vi.stubEnv("SHEPPY_BACKEND_URL", url);
  return new PostgresBackend();
}

beforeEach(() => {
  vi.stubEnv("SHEPPY_BACKEND_URL", undefined);
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("postgres:// URLs and options", () => {
  test("postgres:// and postgresql:// make a PostgresBackend; Sheppy's parameters are read and taken out", () => {
    for (const scheme of ["postgres", "postgresql"]) {
      const backend = backendFromUrl(
        `${scheme}://app:pw@db.example:5433/jobs?schema=work&poolSize=3&maxPayloadBytes=1024&pollInterval=0.5&sslmode=require`,
      ) as PostgresBackend;
      expect(backend).toBeInstanceOf(PostgresBackend);
      expect(backend.schema).toBe("work");
      expect(backend.maxPayloadBytes).toBe(1024);
      expect(backend.url).toBe(`${scheme}://app:pw@db.example:5433/jobs?sslmode=require`);
      expect(backend.capabilities).toEqual({
        crossProcess: true,
        durable: true,
        blockingWait: true,
        leases: true,
        instantProcessing: false,
        sqlTransactions: true,
        dedupeInTransactions: true,
      });
      expect(backend.isConnected).toBe(false);
    }
  });

  test("?pollInterval= is seconds as a plain decimal within the option's bounds; anything else is one line naming it", () => {
    const target = splitPostgresUrl(new URL("postgres://db/jobs?pollInterval=0.5&sslmode=require"));
    expect(target).toEqual({ url: "postgres://db/jobs?sslmode=require", pollInterval: 0.5 });
    expect(splitPostgresUrl(new URL("postgres://db/jobs?pollInterval=3600")).pollInterval).toBe(
      3600,
    );
    for (const bad of ["0.01", "3601", "abc", "1e3", "-1", "", " 2"]) {
      const error = errorOf(() => backendFromUrl(`postgres://db/jobs?pollInterval=${bad}`));
      expect(error).toBeInstanceOf(BackendUrlError);
      expect(error.message).toBe(
        `backend URL parameter pollInterval must be a number of seconds from 0.05 to 3600, such as 2 or 0.5 (got '${bad}')`,
      );
    }
  });

  test("?preparedStatements= and ?listenUrl= are read and taken out; bad ones are one line naming them, passwords out", () => {
    const direct = "postgres://app:direct-pw@db.internal:5432/jobs?sslmode=require";
    const target = splitPostgresUrl(
      new URL(
        `postgres://app:pool-pw@pooler:6543/jobs?preparedStatements=false&listenUrl=${encodeURIComponent(direct)}&sslmode=require`,
      ),
    );
    expect(target).toEqual({
      url: "postgres://app:pool-pw@pooler:6543/jobs?sslmode=require",
      preparedStatements: false,
      listenUrl: direct,
    });
    // Written without encoding, a URL without `&` or `+` in it reads the same.
    expect(
      splitPostgresUrl(new URL("postgres://pooler/jobs?listenUrl=postgres://app:pw@db:5432/jobs"))
        .listenUrl,
    ).toBe("postgres://app:pw@db:5432/jobs");
    expect(splitPostgresUrl(new URL("postgres://pooler/jobs?preparedStatements=true"))).toEqual({
      url: "postgres://pooler/jobs",
      preparedStatements: true,
    });
    for (const bad of ["no", "0", "", "FALSE"]) {
      const error = errorOf(() => backendFromUrl(`postgres://db/jobs?preparedStatements=${bad}`));
      expect(error).toBeInstanceOf(BackendUrlError);
      expect(error.message).toBe(
        `backend URL parameter preparedStatements must be true or false (got '${bad}')`,
      );
    }
    const notPostgres = errorOf(() =>
      backendFromUrl(
        `postgres://u:pool-pw@db/jobs?listenUrl=${encodeURIComponent("redis://:direct-pw@h")}`,
      ),
    );
    expect(notPostgres).toBeInstanceOf(BackendUrlError);
    expect(notPostgres.message).toBe(
      "backend URL parameter listenUrl must be a postgres:// or postgresql:// URL (got 'redis://:****@h'); percent-encode it there (encodeURIComponent)",
    );
    const own = errorOf(() =>
      backendFromUrl(
        `postgres://db/jobs?listenUrl=${encodeURIComponent("postgres://u:direct-pw@h/jobs?schema=x")}`,
      ),
    );
    expect(own.message).toBe(
      "backend URL parameter listenUrl 'postgres://u:****@h/jobs?schema=x' carries ?schema=, which only the backend's own URL takes",
    );
    const option = errorOf(
      () => new PostgresBackend({ url: "postgres://h/db", listenUrl: "db.internal:5432" }),
    );
    expect(option).toBeInstanceOf(BackendUrlError);
    expect(option.message).toBe(
      "PostgresBackend option listenUrl must be a postgres:// or postgresql:// URL (got 'db.internal:5432')",
    );
    const flag = errorOf(
      () =>
        new PostgresBackend({
          url: "postgres://h/db",
          preparedStatements: "false" as unknown as boolean,
        }),
    );
    expect(flag).toBeInstanceOf(InvalidOptionError);
    expect(flag.message).toBe(
      `PostgresBackend option preparedStatements must be true or false (got "false")`,
    );
  });

  test("a Sheppy parameter in another case (?Schema=) is refused, naming it and the one meant, password masked", () => {
    const url = "postgres://app:hunter22@db.example/test?Schema=app&sslmode=disable";
    const error = errorOf(() => backendFromUrl(url));
    expect(error).toBeInstanceOf(BackendUrlError);
    expect(error.message).toBe(
      "Invalid backend URL 'postgres://app:****@db.example/test?Schema=app&sslmode=disable': unknown parameter 'Schema'; did you mean 'schema'? (Sheppy's parameters are case-sensitive)",
    );
    // Every way a URL reaches the backend, each of Sheppy's parameters, any case but its own.
    const ways: [string, (url: string) => unknown][] = [
      ["backend URL", (u) => backendFromUrl(u)],
      ["backend URL", (u) => new Queue(u)],
      ["PostgresBackend option url", (u) => new PostgresBackend({ url: u })],
      ["SHEPPY_BACKEND_URL", fromEnvironment],
    ];
    for (const [name, meant] of [
      ["SCHEMA", "schema"],
      ["poolsize", "poolSize"],
      ["PoolSize", "poolSize"],
      ["maxpayloadbytes", "maxPayloadBytes"],
    ]) {
      for (const [what, make] of ways) {
        const refused = errorOf(() =>
          make(`postgresql://u:s3cret-pw@h/db?${name}=5&password=s3cret-pw`),
        );
        expect(refused).toBeInstanceOf(BackendUrlError);
        expect(refused.message).toContain(`Invalid ${what} 'postgresql://u:****@h/db?`);
        expect(refused.message).toContain(`unknown parameter '${name}'; did you mean '${meant}'?`);
        expect(refused.message).not.toContain("s3cret-pw");
      }
    }
    // The driver's own parameters still go to node-postgres, as it reads them (in their case:
    // `Options` it would ignore, and is refused as a misspelling).
    const passed = backendFromUrl(
      "postgres://h/db?schema=app&sslmode=require&application_name=Jobs&options=x",
    ) as PostgresBackend;
    expect([passed.schema, passed.url]).toEqual([
      "app",
      "postgres://h/db?sslmode=require&application_name=Jobs&options=x",
    ]);
    expect(errorOf(() => backendFromUrl("postgres://h/db?Options=x")).message).toContain(
      "unknown parameter 'Options'; did you mean 'options'?",
    );
  });

  test("eventCap defaults to 10,000; 0 turns the log off; anything but an integer ≥ 0 is one line naming it", () => {
    expect(new PostgresBackend({ url: "postgres://h/db" }).eventCap).toBe(10_000);
    expect(new PostgresBackend({ url: "postgres://h/db", eventCap: 0 }).eventCap).toBe(0);
    const error = errorOf(() => new PostgresBackend({ url: "postgres://h/db", eventCap: 1.5 }));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.message).toMatch(
      /PostgresBackend option eventCap must be an integer ≥ 0.*\(got 1\.5\)/,
    );
    // The URL's ?eventCap= too (node-postgres would ignore it), in its own case only; the option wins.
    expect(new PostgresBackend({ url: "postgres://h/db?eventCap=0" }).eventCap).toBe(0);
    expect(new PostgresBackend({ url: "postgres://h/db?eventCap=7", eventCap: 9 }).eventCap).toBe(
      9,
    );
    expect((backendFromUrl("postgres://h/db?eventCap=250") as PostgresBackend).eventCap).toBe(250);
    for (const bad of ["postgres://h/db?eventCap=-1", "postgres://h/db?eventCap=1.5"]) {
      expect(errorOf(() => new PostgresBackend({ url: bad })).message).toMatch(
        /backend URL parameter eventCap must be a whole number ≥ 0/,
      );
    }
    expect(
      errorOf(() => new PostgresBackend({ url: "postgres://h/db?eventcap=0" })).message,
    ).toMatch(/eventcap.*eventCap/);
  });

  test("the schema defaults to sheppy; options win over the URL", () => {
    expect(new PostgresBackend({ url: "postgres://h/db" }).schema).toBe("sheppy");
    expect(new PostgresBackend({ url: "postgres://h/db?schema=a", schema: "b" }).schema).toBe("b");
  });

  test("a bad schema, pool size or time bound is one line naming the option; the password stays out", () => {
    const schema = errorOf(
      () => new PostgresBackend({ url: "postgres://u:hunter22@h/db", schema: "Bad-Name" }),
    );
    expect(schema).toBeInstanceOf(InvalidOptionError);
    expect(schema.message).toMatch(/schema must be 1–63 lower-case letters/);
    expect(schema.message).not.toContain("\n");
    const fromUrl = errorOf(() => backendFromUrl("postgres://u:hunter22@h/db?schema=x;drop"));
    expect(fromUrl).toBeInstanceOf(InvalidOptionError);
    expect(fromUrl.message).not.toContain("hunter22");
    const pool = errorOf(() => backendFromUrl("postgres://u:hunter22@h/db?poolSize=0"));
    expect(pool).toBeInstanceOf(BackendUrlError);
    expect(pool.message).not.toContain("hunter22");
    expect(() => new PostgresBackend({ url: "postgres://h/db", poolSize: 1.5 })).toThrow(
      /poolSize must be an integer/,
    );
    expect(() => new PostgresBackend({ url: "postgres://h/db", unavailableAfter: 0 })).toThrow(
      /unavailableAfter/,
    );
    for (const pollInterval of [0, 0.01, -1, Number.NaN, 3601, "2" as unknown as number]) {
      const refused = errorOf(() => new PostgresBackend({ url: "postgres://h/db", pollInterval }));
      expect(refused).toBeInstanceOf(InvalidOptionError);
      expect(refused.message).toBe(
        `PostgresBackend option pollInterval must be a number of seconds ≥ 0.05 and ≤ 3600 (got ${String(pollInterval)})`,
      );
    }
    expect(() => new PostgresBackend({ url: "postgres://h/db", pollInterval: 30 })).not.toThrow();
    expect(() => new PostgresBackend({ url: "redis://h" })).toThrow(BackendUrlError);
    for (const own of ["information_schema", "pg_catalog", "pg_temp_1", "pg_sheppy"]) {
      const refused = errorOf(() => new PostgresBackend({ url: "postgres://h/db", schema: own }));
      expect(refused).toBeInstanceOf(InvalidOptionError);
      expect(refused.message).toBe(
        `PostgresBackend option schema must not be a schema of PostgreSQL's own (information_schema, pg_…) (got "${own}")`,
      );
    }
    expect(new PostgresBackend({ url: "postgres://h/db", schema: "app_pg_jobs" }).schema).toBe(
      "app_pg_jobs",
    );
  });

  test("a bad ?schema= in the URL is named as the URL's parameter, however the URL came", () => {
    const ways: [string, (url: string) => unknown][] = [
      ["backend URL", (u) => new Queue(u)],
      ["PostgresBackend option url", (u) => new PostgresBackend({ url: u })],
      ["SHEPPY_BACKEND_URL", fromEnvironment],
    ];
    for (const [what, make] of ways) {
      const bad = errorOf(() => make("postgres://u:hunter22@h/db?schema=Bad"));
      expect(bad).toBeInstanceOf(InvalidOptionError);
      expect(bad.message).toBe(
        `${what}'s ?schema= parameter must be 1–63 lower-case letters, digits or '_', not starting with a digit (got "Bad")`,
      );
      const own = errorOf(() => make("postgres://h/db?schema=pg_catalog"));
      expect(own.message).toBe(
        `${what}'s ?schema= parameter must not be a schema of PostgreSQL's own (information_schema, pg_…) (got "pg_catalog")`,
      );
    }
    // The option is still named as the option.
    const option = errorOf(() => new PostgresBackend({ url: "postgres://h/db", schema: "Bad" }));
    expect(option.message).toMatch(/^PostgresBackend option schema must be 1–63/);
  });

  test("without a url it reads SHEPPY_BACKEND_URL when that names PostgreSQL, and refuses another backend's", () => {
    expect(new PostgresBackend().url).toBe("postgres://127.0.0.1:5432/postgres");
    vi.stubEnv("SHEPPY_BACKEND_URL", "postgresql://h:1/db?schema=env");
    expect(new PostgresBackend().schema).toBe("env");
    vi.stubEnv("SHEPPY_BACKEND_URL", "redis://:secret-pass@h");
    const error = errorOf(() => new PostgresBackend());
    expect(error).toBeInstanceOf(BackendUrlError);
    expect(error.message).not.toContain("secret-pass");
  });

  test("schema names: the accepted shape only", () => {
    for (const good of ["sheppy", "_x", "a1_b2", "a".repeat(63)]) {
      expect(checkSchemaName(good)).toBe(good);
    }
    for (const bad of ["", "1a", "A", "a-b", 'a"b', "a".repeat(64), "a b"]) {
      expect(() => checkSchemaName(bad)).toThrow(InvalidOptionError);
    }
  });

  test("channel names fit 63 bytes and differ per schema; lock keys are signed 64-bit integers", () => {
    const long = channelsOf("a".repeat(63));
    for (const name of [long.work, long.finished, long.events])
      expect(name.length).toBeLessThanOrEqual(63);
    expect(channelsOf("a").work).not.toBe(channelsOf("b").work);
    const key = BigInt(migrationLockKey("sheppy"));
    expect(key).toBe(BigInt.asIntN(64, key));
    expect(migrationLockKey("sheppy")).toBe(migrationLockKey("sheppy"));
    expect(migrationLockKey("other")).not.toBe(migrationLockKey("sheppy"));
  });

  test("loading the package and making a PostgresBackend loads no driver: pg is loaded at connect", () => {
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const script = `
      import { createRequire } from "node:module";
      const { Queue, PostgresBackend } = await import(${JSON.stringify(`${root}src/index.ts`)});
      new Queue("memory://");
      new PostgresBackend({ url: "postgres://127.0.0.1:1/x" });
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify(loaded.filter((path) => /node_modules[\\\\/]pg[\\\\/]/.test(path))));`;
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      {
        cwd: root,
        encoding: "utf8",
      },
    );
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout.trim())).toEqual([]);
    // A child process that compiles the whole source with tsx: seconds on a loaded machine.
  }, 60_000);
});

describe("finished notifications", () => {
  test("ids are split over payloads under PostgreSQL's 8000-byte limit, each [queue, ...ids]", () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `task-${i}-${"x".repeat(30)}`);
    const payloads = finishedPayloads("emails", ids);
    expect(payloads.length).toBeGreaterThan(1);
    const seen: string[] = [];
    for (const payload of payloads) {
      expect(Buffer.byteLength(payload)).toBeLessThan(8000);
      const [queue, ...rest] = JSON.parse(payload) as string[];
      expect(queue).toBe("emails");
      seen.push(...rest);
    }
    expect(seen).toEqual(ids);
    expect(finishedPayloads("q", [])).toEqual([]);
  });
});

describe("settle decisions", () => {
  const item = task({ name: "postgres-options.item" }, (n: number) => n);
  const record = () => ({
    ...item(1).toJSON(),
    status: "completed" as const,
    finishedAt: new Date().toISOString(),
  });
  const claimed = (fence: number): LockedTask => ({
    state: CLAIMED,
    fence,
    settledFence: fence - 1,
    expiresAt: null,
  });

  test("current claim → written; the same settlement again in the batch → settled (a resend); a stale fence → lost", () => {
    const done = record();
    const settlement = { fence: 2, record: done, children: [], expiresAt: null };
    const prepared = prepareSettlements(
      [settlement, settlement, { ...settlement, fence: 1 }],
      Date.now(),
    );
    const rows = new Map([[done.id, claimed(2)]]);
    const plan = planSettle(prepared, rows, new Map(), Date.now());
    expect(plan.results).toEqual(["settled", "settled", "lost"]);
    expect(plan.writes).toHaveLength(1);
    expect(plan.writes[0]).toMatchObject({ id: done.id, state: FINISHED, fence: 2 });
    expect(plan.finished).toEqual([done.id]);
  });

  test("the plan carries the event bodies of the settlements it writes, in order: none of a resend or a lost one", () => {
    const done = record();
    const other = record();
    const prepared = prepareSettlements(
      [
        { fence: 2, record: done, children: [], expiresAt: null, events: ["a1", "a2"] },
        { fence: 2, record: done, children: [], expiresAt: null, events: ["resent"] },
        { fence: 1, record: other, children: [], expiresAt: null, events: ["lost"] },
        { fence: 5, record: other, children: [], expiresAt: null, events: ["b"] },
      ],
      Date.now(),
    );
    const rows = new Map([
      [done.id, claimed(2)],
      [other.id, claimed(5)],
    ]);
    const plan = planSettle(prepared, rows, new Map(), Date.now());
    expect(plan.results).toEqual(["settled", "settled", "lost", "settled"]);
    expect(eventsWritten(plan.events, new Set())).toEqual(["a1", "a2", "b"]);
  });

  test("a chained task's `added` follows its settlement's events, and is appended only if its row was new", () => {
    const done = record();
    const [first, second] = [record(), record()];
    const prepared = prepareSettlements(
      [
        {
          fence: 2,
          record: done,
          children: [first, second],
          expiresAt: null,
          events: ["started", "completed"],
          childEvents: ["added first", "added second"],
        },
      ],
      Date.now(),
    );
    const plan = planSettle(prepared, new Map([[done.id, claimed(2)]]), new Map(), Date.now());
    expect(plan.inserts.map((row) => row.id)).toEqual([first.id, second.id]);
    expect(eventsWritten(plan.events, new Set([first.id, second.id]))).toEqual([
      "started",
      "completed",
      "added first",
      "added second",
    ]);
    // The second's id was held already: its insert added nothing, so it has no event.
    expect(eventsWritten(plan.events, new Set([first.id]))).toEqual([
      "started",
      "completed",
      "added first",
    ]);
  });

  test("an unknown task is lost; a settled one whose record expired is lost, not settled", () => {
    const done = record();
    const prepared = prepareSettlements(
      [{ fence: 3, record: done, children: [], expiresAt: null }],
      Date.now(),
    );
    expect(planSettle(prepared, new Map(), new Map(), Date.now()).results).toEqual(["lost"]);
    const expired = new Map([
      [done.id, { state: FINISHED, fence: 3, settledFence: 3, expiresAt: Date.now() - 1 }],
    ]);
    expect(planSettle(prepared, expired, new Map(), Date.now()).results).toEqual(["lost"]);
  });

  test("a record that cannot be stored is refused before any decision", () => {
    const pending = { ...record(), status: "processing" as const, finishedAt: null };
    expect(() =>
      prepareSettlements([{ fence: 1, record: pending, children: [], expiresAt: null }], 0),
    ).toThrow(InvalidOptionError);
  });
});
