/**
 * The declared-cron config file (CRON-14…CRON-18): what counts as missing,
 * broken, empty, and which entries are skipped one by one.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { parseCronConfig, readCronConfig } from "../../src/worker/cron-config.js";

const PATH = "/srv/app/sheppy.config.json";
const parse = (value: unknown) =>
  parseCronConfig(typeof value === "string" ? value : JSON.stringify(value), PATH);

describe("cron config file", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  test("CRON-16 a missing file is 'missing' with one line naming the path", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sheppy-config-"));
    dirs.push(dir);
    const path = join(dir, "sheppy.config.json");
    expect(await readCronConfig(path)).toEqual({
      kind: "missing",
      message: `no cron config file at ${path}; declared crons left unchanged`,
    });
    writeFileSync(path, JSON.stringify({ crons: [] }));
    expect(await readCronConfig(path)).toEqual({ kind: "ok", declarations: [], problems: [] });
  });

  test.each([
    ["text that is not JSON", '{ "crons": [', /is not valid JSON \(.+\)/],
    ["a top level that is not an object", "[]", /must hold a JSON object/],
    ["null", "null", /must hold a JSON object/],
    ["crons that is not a list", { crons: { task: "x" } }, /has 'crons' that is not a list/],
  ])("CRON-17 %s makes the whole file broken", (_what, content, why) => {
    const read = parse(content);
    expect(read.kind).toBe("broken");
    if (read.kind !== "broken") return;
    expect(read.message).toMatch(why);
    expect(read.message).toContain(PATH);
    expect(read.message).toMatch(/declared crons left unchanged$/);
    expect(read.message).not.toContain("\n");
  });

  test("CRON-18 a file without a crons section declares none", () => {
    expect(parse({})).toEqual({ kind: "ok", declarations: [], problems: [] });
    expect(parse({ tasks: ["./tasks.ts"], $schema: "x" })).toEqual({
      kind: "ok",
      declarations: [],
      problems: [],
    });
  });

  test("a key the file does not take (a misspelt 'crons') makes it broken: nothing changes, rather than every declared cron going", () => {
    expect(parse({ cron: [{ task: "t", expression: "* * * * *" }] })).toEqual({
      kind: "broken",
      message: `cron config file ${PATH} has an unknown key 'cron'; did you mean 'crons'? (keys: crons, tasks, $schema); declared crons left unchanged`,
    });
    expect(parse({ crons: [], timezone: "UTC" })).toMatchObject({ kind: "broken" });
  });

  test("CRON-14 an entry has task, expression, optional args (default []) and queue (default: none)", () => {
    const read = parse({
      crons: [
        { task: "send-report", expression: "0 9 * * 1-5", args: ["daily", 3], queue: "reports" },
        { task: "cleanup", expression: "  @hourly " },
        { task: "cleanup", expression: "@daily", queue: null },
      ],
    });
    expect(read.kind).toBe("ok");
    if (read.kind !== "ok") return;
    expect(read.problems).toEqual([]);
    expect(read.declarations.map(({ key: _key, ...d }) => d)).toEqual([
      {
        index: 0,
        task: "send-report",
        expression: "0 9 * * 1-5",
        args: ["daily", 3],
        queue: "reports",
      },
      { index: 1, task: "cleanup", expression: "@hourly", args: [], queue: null },
      { index: 2, task: "cleanup", expression: "@daily", args: [], queue: null },
    ]);
  });

  test("an entry's key is its identity as written: equal entries share it, any field changes it", () => {
    const keyOf = (entry: object) => {
      const read = parse({ crons: [entry] });
      return read.kind === "ok" ? read.declarations[0]?.key : undefined;
    };
    const base = { task: "t", expression: "@daily", args: [1] };
    expect(keyOf(base)).toBe(keyOf({ args: [1], expression: " @daily", task: "t" }));
    const variants = [
      { ...base, task: "u" },
      { ...base, expression: "@hourly" },
      { ...base, args: [2] },
      { ...base, queue: "q" },
    ].map(keyOf);
    expect(new Set([keyOf(base), ...variants]).size).toBe(5);
  });

  test("an entry gives 'every' (seconds) instead of an expression, or a 'timezone' with its expression", () => {
    const read = parse({
      crons: [
        { task: "poll", every: 30 },
        { task: "report", expression: "30 2 * * *", timezone: "europe/berlin" },
        { task: "report", expression: "30 2 * * *", timezone: "Etc/UTC" },
      ],
    });
    expect(read.kind).toBe("ok");
    if (read.kind !== "ok") return;
    expect(read.problems).toEqual([]);
    expect(read.declarations.map(({ key: _key, ...d }) => d)).toEqual([
      { index: 0, task: "poll", every: 30, args: [], queue: null },
      {
        index: 1,
        task: "report",
        expression: "30 2 * * *",
        timezone: "Europe/Berlin",
        args: [],
        queue: null,
      },
      // UTC, however spelled, is the entry without a zone: the same key as before zones existed.
      { index: 2, task: "report", expression: "30 2 * * *", args: [], queue: null },
    ]);
    const [, , utc] = read.declarations;
    const plain = parse({ crons: [{ task: "report", expression: "30 2 * * *" }] });
    expect(plain.kind === "ok" && plain.declarations[0]?.key).toBe(utc?.key);
  });

  test("a bad 'every' or 'timezone' skips the entry with a line naming the task", () => {
    const read = parse({
      crons: [
        { task: "a", every: 0 },
        { task: "b", every: 30, expression: "@daily" },
        { task: "c", every: 30, timezone: "Europe/Berlin" },
        { task: "d", expression: "@daily", timezone: "Mars/Olympus" },
        { task: "e", every: "30" },
      ],
    });
    expect(read.kind === "ok" && read.declarations).toEqual([]);
    expect(read.kind === "ok" && read.problems).toEqual([
      expect.stringMatching(
        /crons\[0\] skipped: task 'a': 'every' must be a whole number of seconds from 1 to 31622400 \(got 0\)$/,
      ),
      `${PATH}: crons[1] skipped: task 'b' has both 'expression' and 'every'; give one`,
      expect.stringMatching(
        /crons\[2\] skipped: task 'c': 'timezone' applies to cron text, not to \{ every \}/,
      ),
      expect.stringMatching(/crons\[3\] skipped: task 'd': unknown time zone 'Mars\/Olympus'/),
      expect.stringMatching(/crons\[4\] skipped: task 'e': .*\(got "30"\)$/),
    ]);
  });

  test("CRON-15 invalid entries are skipped one by one, each with a line; the rest are kept", () => {
    const read = parse({
      crons: [
        { task: "ok", expression: "@daily" },
        { expression: "@daily" },
        { task: "", expression: "@daily" },
        { task: "t", expression: " " },
        { task: "t" },
        { task: "t", expression: "@daily", args: { a: 1 } },
        { task: "t", expression: "@daily", queue: 3 },
        { task: "t", expression: "@daily", kwargs: {} },
        { task: "t", expression: "0 0 * * 8" },
        42,
        { task: "ok", expression: "@weekly" },
      ],
    });
    expect(read.kind).toBe("ok");
    if (read.kind !== "ok") return;
    expect(read.declarations.map((d) => [d.index, d.expression])).toEqual([
      [0, "@daily"],
      [10, "@weekly"],
    ]);
    expect(read.problems).toEqual([
      `${PATH}: crons[1] skipped: 'task' must be a registered task name`,
      `${PATH}: crons[2] skipped: 'task' must be a registered task name`,
      `${PATH}: crons[3] skipped: 'expression' of task 't' must be a non-empty cron expression`,
      `${PATH}: crons[4] skipped: task 't' needs 'expression' (cron text) or 'every' (seconds)`,
      `${PATH}: crons[5] skipped: 'args' of task 't' must be a list`,
      `${PATH}: crons[6] skipped: 'queue' of task 't' must be a queue name`,
      `${PATH}: crons[7] skipped: unknown field 'kwargs'; did you mean 'args'? (fields: task, expression, every, timezone, args, queue)`,
      expect.stringMatching(
        /^.*crons\[8\] skipped: task 't': invalid cron expression '0 0 \* \* 8': /,
      ),
      `${PATH}: crons[9] skipped: an entry must be an object with 'task' and 'expression'`,
    ]);
  });
});
