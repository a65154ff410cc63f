/** Task ids: time-ordered version-7 UUIDs. */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { formatUuidV7, uuidV7 } from "../../src/util/uuid-v7.js";

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("uuidV7", () => {
  test("is a lower-case version-7, variant-10 UUID carrying its millisecond and counter", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 48 - 1 }),
        fc.integer({ min: 0, max: 0xfff }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        (ms, count, bytes) => {
          const id = formatUuidV7(ms, count, bytes);
          expect(id).toMatch(V7);
          expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(ms);
          expect(Number.parseInt(id.slice(15, 18), 16)).toBe(count);
        },
      ),
    );
  });

  test("ids made one after another in a process are distinct and sort in the order they were made, however fast", () => {
    const ids = Array.from({ length: 50_000 }, () => uuidV7());
    for (const id of ids.slice(0, 100)) expect(id).toMatch(V7);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
