/**
 * A backend URL that gives a parameter twice (`?schema=a&schema=b`) is
 * refused, naming it: Sheppy would read the first value and the drivers the
 * last, so one of them would silently hold. Every backend's URL, every way a
 * URL reaches it, Sheppy's parameters and the drivers' alike.
 */
import fc from "fast-check";
import { BackendUrlError, PostgresBackend, RedisBackend, SqliteBackend } from "sheppy";
import { backendFromUrl } from "sheppy/backend";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { errorOf } from "../support/error-of.js";

beforeEach(() => {
  vi.stubEnv("SHEPPY_BACKEND_URL", undefined);
});

afterEach(() => {
  vi.unstubAllEnvs();
});

const fromEnvironment = (make: () => unknown) => (url: string) => {
  vi.stubEnv("SHEPPY_BACKEND_URL", url);
  return make();
};

/** A backend's URL (`query` appended) and the ways it reaches the backend, each with the name errors give it. */
interface Scheme {
  readonly base: string;
  readonly own: readonly string[];
  readonly driver: readonly string[];
  readonly ways: readonly (readonly [string, (url: string) => unknown])[];
}

const SECRET = "s3cret-pw";

const SCHEMES: Record<string, Scheme> = {
  postgres: {
    base: `postgres://app:${SECRET}@db.example/test`,
    own: ["schema", "poolSize", "maxPayloadBytes"],
    driver: ["sslmode", "application_name", "password", "options"],
    ways: [
      ["backend URL", (u) => backendFromUrl(u)],
      ["PostgresBackend option url", (u) => new PostgresBackend({ url: u })],
      ["SHEPPY_BACKEND_URL", fromEnvironment(() => new PostgresBackend())],
    ],
  },
  redis: {
    base: `redis://:${SECRET}@cache.example:6379/0`,
    own: ["prefix", "maxPayloadBytes", "eventCap", "waitReplicas"],
    driver: ["db", "family", "password", "username"],
    ways: [
      ["backend URL", (u) => backendFromUrl(u)],
      ["Redis URL", (u) => new RedisBackend({ url: u })],
      ["SHEPPY_BACKEND_URL", fromEnvironment(() => new RedisBackend())],
    ],
  },
  cluster: {
    base: `redis+cluster://:${SECRET}@h1:7000,h2:7001`,
    own: ["prefix", "maxPayloadBytes", "eventCap", "waitReplicas"],
    driver: ["password", "natMap"],
    ways: [
      ["Redis Cluster URL", (u) => backendFromUrl(u)],
      ["Redis Cluster URL", (u) => new RedisBackend({ url: u })],
    ],
  },
  sqlite: {
    base: "sqlite:///var/lib/app/tasks.db",
    own: ["synchronous", "busyTimeout", "maxPayloadBytes"],
    driver: ["cache", "mode"],
    ways: [
      ["SqliteBackend option url", (u) => backendFromUrl(u)],
      ["SqliteBackend option url", (u) => new SqliteBackend({ url: u })],
    ],
  },
  memory: {
    base: "memory://",
    own: ["instantProcessing", "maxPayloadBytes"],
    driver: [],
    ways: [["backend URL", (u) => backendFromUrl(u)]],
  },
};

describe("a parameter given twice", () => {
  test("postgres://…?schema=a&schema=b is one line naming the parameter, the URL masked", () => {
    const url = `postgres://app:${SECRET}@db.example/test?schema=a&schema=b`;
    const error = errorOf(() => new PostgresBackend({ url }));
    expect(error).toBeInstanceOf(BackendUrlError);
    expect(error.message).toBe(
      "Invalid PostgresBackend option url 'postgres://app:****@db.example/test?schema=a&schema=b': parameter 'schema' is given more than once (give it once)",
    );
  });

  test("with the same value twice too: the URL says something else than its author meant", () => {
    const error = errorOf(() => backendFromUrl("redis://h?prefix=app&prefix=app"));
    expect(error.message).toContain("parameter 'prefix' is given more than once");
  });

  test("a parameter given once beside others is read as before", () => {
    const backend = backendFromUrl(
      "postgres://h/db?schema=a&sslmode=require&poolSize=2",
    ) as PostgresBackend;
    expect([backend.schema, backend.url]).toEqual(["a", "postgres://h/db?sslmode=require"]);
    expect((backendFromUrl("redis://h?prefix=app&family=6") as RedisBackend).prefix).toBe("app");
    expect((backendFromUrl("sqlite://a.db?synchronous=full") as SqliteBackend).synchronous).toBe(
      "full",
    );
  });

  /** Any name a URL may carry. */
  const otherName = fc.stringMatching(/^[A-Za-z0-9_.~-]{1,20}$/);

  /**
   * Whether a URL giving `param` once is refused for the name itself: one
   * that looks like a misspelling of Sheppy's parameters or the driver's
   * (`Db_` for `db`), or that names a constructor-only option. Such a name
   * is refused as that first, once or twice.
   */
  const refusedName = (make: (url: string) => unknown, url: string): boolean => {
    try {
      make(url);
      return false;
    } catch (error) {
      return /unknown parameter|is not a URL parameter/.test((error as Error).message);
    }
  };

  test.each(Object.entries(SCHEMES))(
    "property: on %s, each way in, any parameter twice is refused naming it, the password kept out",
    (_scheme, { base, own, driver, ways }) => {
      const name =
        driver.length === 0
          ? fc.constantFrom(...own)
          : fc.oneof(fc.constantFrom(...own, ...driver), otherName);
      const value = fc.string({ maxLength: 8 }).map(encodeURIComponent);
      fc.assert(
        fc.property(
          name,
          value,
          value,
          fc.constantFrom(...ways),
          fc.boolean(),
          (param, first, second, [what, make], between) => {
            fc.pre(!refusedName(make, `${base}?${param}=${first}`));
            const middle = between && param !== "maxPayloadBytes" ? "&maxPayloadBytes=1024" : "";
            const url = `${base}?${param}=${first}${middle}&${param}=${second}`;
            const error = errorOf(() => make(url));
            expect(error).toBeInstanceOf(BackendUrlError);
            expect(error.message).toContain(`Invalid ${what} '`);
            expect(error.message).toContain(`: parameter '${param}' is given more than once`);
            expect(error.message).not.toContain(SECRET);
            expect(error.message).not.toContain("\n");
          },
        ),
        { numRuns: 150 },
      );
    },
  );
});
