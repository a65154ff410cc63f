/** RecentIds: holds the newest ids up to its capacity, whatever order they come in. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RecentIds } from "../../src/util/recent-ids.js";

describe("RecentIds", () => {
  it("holds exactly the newest distinct ids, at most its capacity", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.constantFrom("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"), {
          maxLength: 60,
        }),
        (capacity, ids) => {
          const recent = new RecentIds(capacity);
          for (const id of ids) recent.add(id);
          // The model: the distinct ids by their last addition, newest last.
          const order: string[] = [];
          for (const id of ids) {
            const at = order.indexOf(id);
            if (at >= 0) order.splice(at, 1);
            order.push(id);
          }
          const kept = order.slice(-capacity);
          expect(recent.size).toBe(kept.length);
          for (const id of "abcdefghij") expect(recent.has(id)).toBe(kept.includes(id));
        },
      ),
    );
  });
});
