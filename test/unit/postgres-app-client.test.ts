/**
 * The connection objects an application hands the PostgreSQL backend — the
 * `tx` of an add, the pool or client of `migrate` — are checked for their
 * shape, and a wrong one is named as such in one line: not a `TypeError`
 * from deep inside, nor a refusal PostgreSQL never made. Without a server:
 * the objects here are fakes (test/backends/postgres adds within real ones).
 */
import fc from "fast-check";
import { InvalidOptionError } from "sheppy";
import { migrate, migrationStatus } from "sheppy/backends/postgres";
import { describe, expect, test } from "vitest";
import { describeKind, rowsOf } from "../../src/backends/postgres/app-client.js";

async function refusal(call: () => Promise<unknown>): Promise<Error> {
  try {
    await call();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a refusal");
}

describe("what query(text, values) resolved to", () => {
  test("a result with rows gives its rows", () => {
    const rows = [{ id: "a" }];
    expect(rowsOf({ rows, rowCount: 1 }, "add", "tx.query")).toBe(rows);
  });

  test.each([
    [undefined, "undefined"],
    [null, "null"],
    [[{ id: "a" }], "an array (the rows alone? resolve to { rows } instead)"],
    [{}, "an object without keys"],
    [{ rows: undefined }, "an object whose rows is undefined"],
    [{ rows: { 0: { id: "a" } } }, "an object whose rows is an object with 0"],
    [{ rowCount: 1, command: "INSERT" }, "an object with rowCount, command"],
    [3, "a number"],
  ])("%j is refused, naming what it was", (result, got) => {
    const error = (() => {
      try {
        rowsOf(result, "add", "tx.query");
      } catch (e) {
        return e as Error;
      }
      throw new Error("expected a refusal");
    })();
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.message).toBe(
      `add: tx.query(text, values) must resolve to a result with rows, as node-postgres's query does (got ${got})`,
    );
  });

  test("property: any value is either a result with a list of rows or one line describing it, never its data", () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withMap: true }), (value) => {
        const hasRows = Array.isArray((value as { rows?: unknown } | null)?.rows);
        let message: string | undefined;
        try {
          rowsOf(value, "add", "tx.query");
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidOptionError);
          message = (error as Error).message;
        }
        expect(message === undefined).toBe(hasRows);
        if (message !== undefined) {
          expect(message).not.toContain("\n");
          // Kinds and at most five key names: a long value never makes a long line.
          expect(message.length).toBeLessThan(400);
        }
      }),
      { numRuns: 500 },
    );
  });

  test("an object whose rows getter throws is described, not a crash", () => {
    const hostile = {
      get rows(): unknown {
        throw new Error("boom");
      },
    };
    expect(() => rowsOf(hostile, "add", "tx.query")).toThrow(
      /must resolve to a result with rows.*\(got an object whose rows is undefined\)/,
    );
    expect(describeKind(new Proxy({}, { ownKeys: () => [Symbol("x")] }))).toBe(
      "an object without keys",
    );
  });
});

describe("migrate and migrationStatus check their first argument", () => {
  test.each([
    [{}, "an object without keys"],
    [undefined, "undefined"],
    ["postgres://app:s3cret@db/app", "a string"],
    [{ execute: () => undefined }, "an object with execute"],
  ])("%j is refused in one line naming the call, never showing a URL", async (db, got) => {
    for (const [name, call] of [
      ["migrate", () => migrate(db as never, "sheppy")],
      ["migrationStatus", () => migrationStatus(db as never, "sheppy")],
    ] as const) {
      const error = await refusal(call);
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.message).toBe(
        `${name}: the first argument must be a pg Pool or a connected client, with query(text, values) (got ${got})`,
      );
    }
  });

  test("a client whose query resolves to nothing is named as such, and its transaction rolled back", async () => {
    const sent: string[] = [];
    const client = {
      query: async (text: string) => {
        sent.push(text.trim().split(/\s+/, 2).join(" "));
        return undefined;
      },
    };
    const error = await refusal(() => migrate(client as never, "sheppy"));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.message).toBe(
      "migrate: the client's query(text, values) must resolve to a result with rows, as node-postgres's query does (got undefined)",
    );
    expect(sent.at(0)).toBe("BEGIN");
    expect(sent.at(-1)).toBe("ROLLBACK");
  });
});
