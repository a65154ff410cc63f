/**
 * The CLI's counts and seconds are written in plain decimal: `Number()` alone
 * would read `0x10` as 16, `1e3` as 1000 and `Infinity` as a count, none of
 * which a person typing a flag means.
 */
import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { SETTINGS } from "../../src/cli/env.js";

const parse = (name: "concurrency" | "shutdownTimeout", raw: string) => SETTINGS[name].parse(raw);

describe("number settings", () => {
  it("a count takes digits only", () => {
    expect(parse("concurrency", "16")).toBe(16);
    expect(parse("concurrency", " 3 ")).toBe(3);
    for (const written of ["0x10", "1e3", "Infinity", "1.0", "+5", "0", "", "12abc"]) {
      expect(() => parse("concurrency", written), written).toThrow(InvalidArgumentError);
      expect(() => parse("concurrency", written), written).toThrow("It must be an integer ≥ 1.");
    }
  });

  it("seconds take a decimal number ≥ 0", () => {
    expect(parse("shutdownTimeout", "2")).toBe(2);
    expect(parse("shutdownTimeout", "0.5")).toBe(0.5);
    expect(parse("shutdownTimeout", ".5")).toBe(0.5);
    expect(parse("shutdownTimeout", "0")).toBe(0);
    for (const written of ["1e1", "0x10", "-1", "Infinity", "", "1s"]) {
      expect(() => parse("shutdownTimeout", written), written).toThrow(
        "It must be a number of seconds ≥ 0.",
      );
    }
  });
});
