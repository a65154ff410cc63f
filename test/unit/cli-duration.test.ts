/**
 * Durations on the command line (`--delay`, `--timeout`): a bare number of
 * seconds, one `<number><unit>` component, or a compound such as `1h30m`
 * (units largest first, each at most once). Anything else is one line naming
 * the flag and the accepted forms.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { parseDuration, parseTimeout } from "../../src/cli/inputs.js";
import { CliUsageError } from "../../src/errors.js";

describe("parseDuration", () => {
  test.each([
    ["90", 90],
    ["1.5", 1.5],
    ["30s", 30],
    ["5m", 300],
    ["2h", 7200],
    ["1d", 86_400],
    ["500ms", 0.5],
    ["1.5h", 5400],
    [" 5 m ", 300],
    ["1h30m", 5400],
    ["2m30s", 150],
    ["1d12h", 129_600],
    ["1h 30m", 5400],
    ["1H30M", 5400],
    ["1m30.5s", 90.5],
    ["1s500ms", 1.5],
    ["1d2h3m4s5ms", 93_784.005],
  ])("reads %j as %d seconds", (raw, seconds) => {
    expect(parseDuration(raw, "--delay")).toBeCloseTo(seconds, 9);
  });

  test("a compound of hours, minutes and seconds is the sum of its parts", () => {
    const part = fc.option(fc.nat({ max: 10_000 }), { nil: undefined });
    fc.assert(
      fc.property(part, part, part, (h, m, s) => {
        fc.pre(h !== undefined || m !== undefined || s !== undefined);
        const raw = `${h === undefined ? "" : `${h}h`}${m === undefined ? "" : `${m}m`}${s === undefined ? "" : `${s}s`}`;
        expect(parseDuration(raw, "--delay")).toBe((h ?? 0) * 3600 + (m ?? 0) * 60 + (s ?? 0));
      }),
      { numRuns: 1000 },
    );
  });

  test.each([
    "1m1h", // units out of order
    "1h1h", // a unit twice
    "1h1H",
    "h", // no number
    "1x", // no such unit
    "",
    "1m30", // a trailing number without its unit
    "1.5h30m", // decimals only on the last component
    "-1h",
    "5 parsecs",
  ])("refuses %j in one line naming the flag and the compound form", (raw) => {
    let caught: unknown;
    try {
      parseDuration(raw, "--delay");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CliUsageError);
    expect((caught as Error).message).toBe(
      `--delay must be a duration such as 30s, 5m, 2h, 1d or 1h30m (units d, h, m, s, ms, largest first, each at most once; a bare number is seconds) (got '${raw}')`,
    );
  });
});

describe("parseTimeout", () => {
  test("a wait of no time is refused, in one line saying what to do instead", () => {
    for (const raw of ["0", "0s", "0ms"]) {
      expect(() => parseTimeout(raw)).toThrow(
        `--timeout must be longer than 0 (got "${raw}"); leave out --wait to add without waiting`,
      );
    }
    expect(parseTimeout("2s")).toBe(2);
    expect(parseTimeout(undefined)).toBeUndefined();
  });
});
