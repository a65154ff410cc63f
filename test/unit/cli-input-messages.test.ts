/**
 * Messages of bad per-command inputs say what is accepted: a boolean
 * variable lists every spelling the CLI takes, and empty `--args` input is
 * said to be empty rather than "not valid JSON" followed by nothing; a
 * `--status` list that names no status is refused, not read as "no tasks".
 */
import { Readable } from "node:stream";
import { afterEach, describe, expect, test, vi } from "vitest";
import { parseArgsJson, parseStatuses, readArgsText } from "../../src/cli/inputs.js";
import { buildProgram } from "../../src/cli/program.js";

describe("CLI input messages", () => {
  afterEach(() => vi.unstubAllEnvs());

  test("a boolean variable's message names every accepted spelling", async () => {
    vi.stubEnv("SHEPPY_ONESHOT", "maybe");
    await expect(buildProgram().parseAsync(["work"], { from: "user" })).rejects.toThrow(
      "SHEPPY_ONESHOT must be true, 1, yes or on, or false, 0, no, off or empty (got 'maybe')",
    );
  });

  test("empty standard input for --args - is said to be empty", async () => {
    const { text, source } = await readArgsText("-", undefined, Readable.from([]));
    expect(() => parseArgsJson(text, source)).toThrow(
      "--args - (standard input) is empty: it must be a JSON array of the task's arguments",
    );
    expect(() => parseArgsJson("  \n", "--args")).toThrow("--args is empty:");
  });

  test("--status must name at least one status, and only known ones", () => {
    for (const empty of ["", ",", " , "]) {
      expect(() => parseStatuses(empty)).toThrow(
        /^--status names no status; give one or more of: .*pending.*leave the flag out for every task/,
      );
    }
    expect(() => parseStatuses("done")).toThrow("--status 'done' is not a task status");
    expect(parseStatuses(" Failed, crashed,")).toEqual(new Set(["failed", "crashed"]));
    expect(parseStatuses(undefined)).toBeUndefined();
  });
});
