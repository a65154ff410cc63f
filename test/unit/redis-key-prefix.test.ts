/**
 * Redis keys are `{<prefix>:<queue>}…`: a prefix may not hold ':', so that no
 * two (prefix, queue name) pairs spell the same keys.
 */
import fc from "fast-check";
import { InvalidOptionError } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { describe, expect, it } from "vitest";
import { queueKeys, queuesRegistryKey } from "../../src/backends/redis/keys.js";

const prefixChars = fc.constantFrom(..."ab_.-9".split(""));
const queueChars = fc.constantFrom(..."ab_.:-9".split(""));
const prefix = fc.string({ unit: prefixChars, minLength: 1, maxLength: 6 });
const queue = fc.string({ unit: queueChars, minLength: 1, maxLength: 6 });

describe("redis key prefix", () => {
  it("a prefix with ':' is refused when the backend is created, saying why", () => {
    for (const bad of ["a:b", ":", "app:", ""]) {
      expect(() => new RedisBackend({ prefix: bad })).toThrow(InvalidOptionError);
    }
    expect(() => new RedisBackend({ prefix: "a:b" })).toThrow(/no ':'/);
    expect(() => new RedisBackend({ prefix: "app.v2-test_1" })).not.toThrow();
  });

  it("the message says which letters: only ASCII ones pass the check", () => {
    expect(() => new RedisBackend({ prefix: "ünïcode" })).toThrow(/1–64 ASCII letters, digits/);
  });

  it("two (prefix, queue) pairs share a key only when they are the same pair", () => {
    fc.assert(
      fc.property(prefix, queue, prefix, queue, (p1, q1, p2, q2) => {
        const a = queueKeys(p1, q1);
        const b = queueKeys(p2, q2);
        const same = p1 === p2 && q1 === q2;
        expect(a.pending === b.pending).toBe(same);
        expect(a.task === b.task).toBe(same);
        expect(a.finishedChannel === b.finishedChannel).toBe(same);
        expect(queuesRegistryKey(p1) === queuesRegistryKey(p2)).toBe(p1 === p2);
      }),
      { numRuns: 2000 },
    );
  });
});
