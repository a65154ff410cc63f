/** A task's arguments from the command line, from standard input (`--args -`) or from a file (`--args-file`). */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectOneLineError, runCli, TASKS } from "../support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "sheppy-args-"));

describe.concurrent("sheppy task: where the arguments come from", () => {
  it("--args - reads the JSON array from standard input", async () => {
    const result = await runCli(["task", "test", `${TASKS}:add`, "--args", "-"], {}, "[2, 3]\n");
    expect(result).toMatchObject({ code: 0, stdout: "5\n" });
  });

  it("bad JSON over several lines is quoted whole on one line, its line breaks as ⏎", async () => {
    const result = await runCli(
      ["task", "test", `${TASKS}:add`, "--args", "-"],
      {},
      "[1,\n  oops]\n",
    );
    const line = expectOneLineError(result, 2);
    expect(line).toMatch(
      /^error: --args - \(standard input\) is not valid JSON \(.+\): \[1, ⏎ oops\]$/,
    );
    const file = join(dir, "broken.json");
    writeFileSync(file, "not json\nat all\n");
    const fromFile = expectOneLineError(
      await runCli(["task", "test", `${TASKS}:add`, "--args-file", file]),
      2,
    );
    expect(fromFile).toMatch(/is not valid JSON \(.+\): not json ⏎ at all$/);
  });

  it("--args-file reads it from a file, however large", async () => {
    const small = join(dir, "small.json");
    writeFileSync(small, "[20, 22]");
    expect(await runCli(["task", "test", `${TASKS}:add`, "--args-file", small])).toMatchObject({
      code: 0,
      stdout: "42\n",
    });
    // 200 KB of arguments: more than a shell passes comfortably on a command line.
    const large = join(dir, "large.json");
    writeFileSync(large, JSON.stringify(["x".repeat(200_000), "!"]));
    const result = await runCli(["task", "test", `${TASKS}:add`, "--args-file", large]);
    expect(result.code).toBe(0);
    expect(result.stdout.length).toBeGreaterThan(200_000);
  });

  it("arguments over the queue's payload limit are refused naming the flag (exit 2)", async () => {
    const big = join(dir, "big.json");
    writeFileSync(big, JSON.stringify(["x".repeat(2000), "!"]));
    const line = expectOneLineError(
      await runCli([
        "task",
        "add",
        `${TASKS}:add`,
        "--args-file",
        big,
        "-u",
        "memory://?maxPayloadBytes=1000",
      ]),
      2,
    );
    expect(line).toBe(
      "error: --args-file: the arguments are 2,008 bytes of JSON, over the queue's limit of 1,000 (raise it with ?maxPayloadBytes= on the backend URL, or pass a reference to the data instead)",
    );
  });

  it("bad arguments are echoed cut to 200 characters, naming where they came from", async () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, `[${"1,".repeat(5000)}`);
    const line = expectOneLineError(
      await runCli(["task", "test", `${TASKS}:add`, "--args-file", bad]),
      2,
    );
    expect(line).toMatch(new RegExp(`^error: --args-file ${bad} is not valid JSON`));
    expect(line).toContain("(10001 characters)");
    expect(line.length).toBeLessThan(400);
  });

  it("fewer arguments than a task without an args schema declares is a warning; the task is still added", async () => {
    const short = await runCli(["task", "add", `${TASKS}:add`, "--args", "[1]", "-u", "memory://"]);
    expect(short.code).toBe(0);
    expect(short.stderr.trim()).toBe(
      "warning: task 'cli.add' declares 2 parameters and was given 1 argument; without an args schema nothing checks them before it runs (give the task an args schema to refuse them when it is added)",
    );
    const whole = await runCli([
      "task",
      "add",
      `${TASKS}:add`,
      "--args",
      "[1,2]",
      "-u",
      "memory://",
    ]);
    expect(whole).toMatchObject({ code: 0, stderr: "" });
  });

  it("fewer arguments than a workflow without an args schema declares is a warning; the workflow is still started", async () => {
    const short = await runCli([
      "workflow",
      "add",
      `${TASKS}:dozing`,
      "--args",
      "[1]",
      "-u",
      "memory://",
    ]);
    expect(short.code).toBe(0);
    expect(short.stderr.trim()).toBe(
      "warning: workflow 'cli.dozing' declares 2 parameters and was given 1 argument; without an args schema nothing checks them before it runs (give the workflow an args schema to refuse them when it is added)",
    );
  });

  it("JSON a task cannot store (1e400 is Infinity; nesting past 64 levels) is the command line's fault: exit 2, naming the flag", async () => {
    const infinite = expectOneLineError(
      await runCli(["task", "test", `${TASKS}:add`, "--args", "[1e400, 1]"]),
      2,
    );
    expect(infinite).toMatch(
      /^error: --args: task '[^']+': args\[0\] is Infinity, which JSON cannot store/,
    );
    const file = join(dir, "deep.json");
    writeFileSync(file, `[${"[".repeat(70)}${"]".repeat(70)}, 1]`);
    const deep = expectOneLineError(
      await runCli(["task", "add", `${TASKS}:add`, "--args-file", file, "-u", "memory://"]),
      2,
    );
    expect(deep).toMatch(new RegExp(`^error: --args-file ${file}: .*nests deeper than 64 levels`));
  });

  it("--args and --args-file together are refused", async () => {
    const file = join(dir, "either.json");
    writeFileSync(file, "[1, 2]");
    const result = await runCli([
      "task",
      "test",
      `${TASKS}:add`,
      "--args",
      "[1, 2]",
      "--args-file",
      file,
    ]);
    expect(expectOneLineError(result, 2)).toBe("error: use either --args or --args-file, not both");
  });
});
