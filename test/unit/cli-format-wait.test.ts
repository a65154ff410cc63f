/** `sheppy queue list`'s WAITED column: a wait in the two largest units that say it. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatWait } from "../../src/cli/output.js";

describe("formatWait", () => {
  it("shows seconds, then minutes and seconds, hours and minutes, days and hours", () => {
    expect(formatWait(0)).toBe("0s");
    expect(formatWait(999)).toBe("0s");
    expect(formatWait(42_500)).toBe("42s");
    expect(formatWait(5 * 60_000 + 7_000)).toBe("5m07s");
    expect(formatWait(3 * 3_600_000 + 2 * 60_000 + 59_000)).toBe("3h02m");
    expect(formatWait(2 * 86_400_000 + 4 * 3_600_000)).toBe("2d04h");
  });

  it("never shows a unit's overflow, and never goes back as the wait grows", () => {
    const units = (text: string) =>
      [...text.matchAll(/(\d+)([dhms])/g)].map(([, n, unit]) => [Number(n), unit] as const);
    const limit = { d: Number.POSITIVE_INFINITY, h: 23, m: 59, s: 59 } as const;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400 * 86_400_000 }), (ms) => {
        const shown = units(formatWait(ms));
        expect(shown.length).toBeGreaterThan(0);
        for (const [index, [n, unit]] of shown.entries())
          if (index > 0 || unit === "s")
            expect(n).toBeLessThanOrEqual(limit[unit as keyof typeof limit]);
        const seconds = (text: string) =>
          units(text).reduce(
            (sum, [n, unit]) => sum + n * { d: 86_400, h: 3600, m: 60, s: 1 }[unit as "d"],
            0,
          );
        expect(seconds(formatWait(ms + 1000))).toBeGreaterThanOrEqual(seconds(formatWait(ms)));
      }),
    );
  });
});
