/**
 * maskUrl hides every credential a Redis or PostgreSQL driver would read from
 * a URL: the user-info password (or, in a Redis URL, a user-info without a
 * colon), query parameters named like secrets, percent-encoded and repeated
 * ones, and the same in text that `new URL()` cannot parse. A user name
 * without a password is shown: `****` there would suggest a password.
 */
import fc from "fast-check";
import { maskUrl } from "sheppy/backend";
import { describe, expect, test } from "vitest";

describe("user-info", () => {
  test.each([
    ["redis://user:secret@host:6379/0", "redis://user:****@host:6379/0"],
    ["redis://:secret@host:6379", "redis://:****@host:6379"],
    [
      "rediss://default:secret@cache.example.com:6380/2",
      "rediss://default:****@cache.example.com:6380/2",
    ],
    ["postgres://app:secret@db:5432/app", "postgres://app:****@db:5432/app"],
    [
      "postgresql://app:secret@db/app?sslmode=require",
      "postgresql://app:****@db/app?sslmode=require",
    ],
  ])("%s hides the password and keeps the user", (raw, masked) => {
    expect(maskUrl(raw)).toBe(masked);
  });

  test("in a Redis URL, a user-info without a colon is masked whole: some clients read it as the password", () => {
    expect(maskUrl("redis://secret@host:6379")).toBe("redis://****@host:6379");
    expect(maskUrl("rediss://secret@host:6379")).toBe("rediss://****@host:6379");
    expect(maskUrl("redis+cluster://secret@h1:7000,h2:7001")).toBe(
      "redis+cluster://****@h1:7000,h2:7001",
    );
    expect(maskUrl("secret@host:6379")).toBe("****@host:6379");
  });

  test("elsewhere a user-info without a colon is a user name, shown: there is no password to hide", () => {
    expect(maskUrl("postgres://postgres@127.0.0.1/test")).toBe(
      "postgres://postgres@127.0.0.1/test",
    );
    expect(maskUrl("postgresql://app@db:5432/app?sslmode=require")).toBe(
      "postgresql://app@db:5432/app?sslmode=require",
    );
    expect(maskUrl("postgres://app@db/app?password=secret")).toBe(
      "postgres://app@db/app?password=****",
    );
    expect(maskUrl("amqp://guest@broker:5672")).toBe("amqp://guest@broker:5672");
  });

  test("a percent-encoded password is masked whole", () => {
    expect(maskUrl("postgres://app:p%40ss%3Aw%2Frd@db:5432/app")).toBe(
      "postgres://app:****@db:5432/app",
    );
  });

  test("an empty password stays empty", () => {
    expect(maskUrl("redis://user:@host")).toBe("redis://user:@host");
  });

  test("a password with a raw '@' is masked up to the last '@'", () => {
    expect(maskUrl("redis://user:p@ss@host:6379")).toBe("redis://user:****@host:6379");
  });

  test("a URL without a scheme, as ioredis also accepts, is masked", () => {
    expect(maskUrl("user:secret@host:6379")).toBe("user:****@host:6379");
    expect(maskUrl("redis:secret@host")).toBe("redis:****@host");
  });
});

describe("query parameters", () => {
  test.each([
    ["redis://127.0.0.1:6394?password=secret", "redis://127.0.0.1:6394?password=****"],
    [
      "redis://host?username=default&password=secret",
      "redis://host?username=default&password=****",
    ],
    ["redis://host?db=1&pass=secret", "redis://host?db=1&pass=****"],
    [
      "redis://host?sentinelPassword=secret&prefix=app",
      "redis://host?sentinelPassword=****&prefix=app",
    ],
    ["postgres://db/app?user=app&password=secret", "postgres://db/app?user=app&password=****"],
    [
      "postgres://db/app?sslpassword=secret&sslmode=verify-full",
      "postgres://db/app?sslpassword=****&sslmode=verify-full",
    ],
    ["redis://host?authToken=secret", "redis://host?authToken=****"],
    ["redis://host?api_key=secret", "redis://host?api_key=****"],
    ["redis://host?PASSWORD=secret", "redis://host?PASSWORD=****"],
    ["redis://host?pass%77ord=secret", "redis://host?pass%77ord=****"],
    ["redis://host?password=p%40ss%26word", "redis://host?password=****"],
  ])("%s", (raw, masked) => {
    expect(maskUrl(raw)).toBe(masked);
  });

  test("every occurrence of a repeated parameter is masked", () => {
    expect(maskUrl("redis://host?password=first&db=0&password=second")).toBe(
      "redis://host?password=****&db=0&password=****",
    );
  });

  test("parameters that are not secrets are kept", () => {
    expect(maskUrl("redis://host:6379/0?prefix=app&family=6")).toBe(
      "redis://host:6379/0?prefix=app&family=6",
    );
  });

  test("a parameter whose value is a URL with user-info is masked whole, however it is encoded", () => {
    const nested = "postgres://app:secret@direct:5432/app";
    expect(maskUrl(`postgres://pool:6543/app?listenUrl=${encodeURIComponent(nested)}&x=1`)).toBe(
      "postgres://pool:6543/app?listenUrl=****&x=1",
    );
    expect(maskUrl(`postgres://app:pw@pool:6543/app?listenUrl=${nested}`)).not.toContain("secret");
    // Without user-info it holds no secret, and shows where it points.
    const bare = encodeURIComponent("postgres://direct:5432/app");
    expect(maskUrl(`postgres://pool/app?listenUrl=${bare}`)).toBe(
      `postgres://pool/app?listenUrl=${bare}`,
    );
  });

  test("user-info and parameters together", () => {
    expect(maskUrl("redis://user:one@host/0?password=two")).toBe(
      "redis://user:****@host/0?password=****",
    );
  });
});

describe("text that new URL() cannot parse", () => {
  test.each([
    ["redis://:ab?cd@host:6379", "redis://:****@host:6379"],
    ["redis://user:pa/ss#x@host", "redis://user:****@host"],
    ["weird scheme://user:secret@host", "weird scheme://user:****@host"],
    ["redis://host:port?password=secret", "redis://host:port?password=****"],
  ])("%s", (raw, masked) => {
    expect(() => new URL(raw)).toThrow();
    expect(maskUrl(raw)).toBe(masked);
  });

  test("a password=value pair outside a URL", () => {
    expect(maskUrl("password=secret")).toBe("password=****");
  });

  test("text without credentials is returned as is", () => {
    expect(maskUrl("not a url")).toBe("not a url");
    expect(maskUrl("redis://host:6379/0")).toBe("redis://host:6379/0");
    expect(maskUrl("memory://?instantProcessing=false")).toBe("memory://?instantProcessing=false");
    expect(maskUrl("")).toBe("");
  });

  test("a raw '@' after the host masks everything before it (too much rather than too little)", () => {
    expect(maskUrl("redis://db/0?user=app@tenant")).toBe("redis://****@tenant");
    expect(maskUrl("postgres://db/app?sslpassword=pa@ss")).toBe(
      "postgres://db/app?sslpassword=****",
    );
    expect(maskUrl("postgres://app:p@ss@db/app")).toBe("postgres://app:****@db/app");
  });
});

/** Where a secret goes in a URL, as a driver reads it (`s` is the secret as written in the URL). */
const POSITIONS: readonly ((s: string) => string)[] = [
  (s) => `redis://user:${s}@host:6379/0`,
  (s) => `redis://:${s}@host:6379`,
  (s) => `redis://${s}@host:6379`,
  (s) => `rediss://host:6379?password=${s}`,
  (s) => `redis://host:6379?username=default&password=${s}`,
  (s) => `redis://host:6379?password=decoy&db=0&password=${s}`,
  (s) => `redis://host:6379?sentinelPassword=${s}&prefix=app`,
  (s) => `postgres://app:${s}@host:5432/app?sslmode=require`,
  (s) => `postgres://host:5432/app?user=app&password=${s}`,
  (s) => `postgres://host:5432/app?sslpassword=${s}&sslmode=verify-full`,
  (s) =>
    `postgres://host:5432/app?listenUrl=${encodeURIComponent(`postgres://app:${s}@direct/app`)}`,
];

/**
 * A secret worth looking for: not already part of the masked URL around it
 * (`****`, `@`, `host`…, and a decoy parameter's mask beside what follows it,
 * `****&db`).
 */
function findable(secret: string, place: (s: string) => string): boolean {
  return !maskUrl(place("****")).includes(secret);
}

describe("property: a user name is shown as it is, with only its password masked", () => {
  const name = fc.string({ minLength: 1, maxLength: 30 });
  const scheme = fc.constantFrom("postgres", "postgresql", "mysql", "amqp");

  test("without a password, the URL is shown unchanged", () => {
    fc.assert(
      fc.property(scheme, name, (s, user) => {
        const url = `${s}://${encodeURIComponent(user)}@host:5432/app?sslmode=require`;
        expect(maskUrl(url)).toBe(url);
      }),
      { numRuns: 300 },
    );
  });

  test("with a password, on any scheme, the user stays and the password is ****", () => {
    fc.assert(
      fc.property(fc.oneof(scheme, fc.constant("redis")), name, name, (s, user, password) => {
        const encoded = encodeURIComponent(user);
        const url = `${s}://${encoded}:${encodeURIComponent(password)}@host:5432/app`;
        expect(maskUrl(url)).toBe(`${s}://${encoded}:****@host:5432/app`);
      }),
      { numRuns: 300 },
    );
  });
});

describe("property: a secret never survives masking", () => {
  const secret = fc.oneof(
    fc.string({ minLength: 1, maxLength: 30 }),
    fc.string({ minLength: 1, maxLength: 30, unit: "grapheme" }),
  );

  test("percent-encoded, as a valid URL carries it, in every credential position", () => {
    fc.assert(
      fc.property(secret, fc.constantFrom(...POSITIONS), (raw, place) => {
        const encoded = encodeURIComponent(raw);
        fc.pre(findable(encoded, place) && findable(raw, place));
        const masked = maskUrl(place(encoded));
        expect(masked).not.toContain(encoded);
        expect(masked).not.toContain(raw);
        // Only the secret goes: the host is still there to say where the connection went.
        expect(masked).toContain("host:");
      }),
      { numRuns: 500 },
    );
  });

  test("written raw (often not a valid URL) as the user-info password", () => {
    fc.assert(
      fc.property(secret, (raw) => {
        const place = (s: string) => `redis://user:${s}@host:6379/0`;
        fc.pre(findable(raw, place));
        expect(maskUrl(place(raw))).not.toContain(raw);
      }),
      { numRuns: 500 },
    );
  });
});
