/**
 * Bad input to the built CLI: one clear line on stderr, a non-zero exit code
 * (2 for a wrong command line, 1 for a failed operation), no stack trace —
 * unless `--log-level debug`. Issue #5, BEHAVIOURS CFG-5, CFG-6, CFG-7, WK-2.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  expectOneLineError,
  json,
  PRESTART,
  ROOT,
  runCli,
  TASKS,
  WorkerProcess,
} from "../support/cli.js";

// Nothing listens on port 1: connecting is refused at once.
const UNREACHABLE = "redis://127.0.0.1:1";
const MEMORY = "memory://";

describe.concurrent("sheppy: errors are one line and a non-zero exit", () => {
  it("bad JSON in --args", async () => {
    const result = await runCli(["task", "add", `${TASKS}:add`, "--args", "[1,", "-u", MEMORY]);
    expect(expectOneLineError(result, 2)).toMatch(/^error: --args is not valid JSON \(.+\): \[1,$/);
  });

  it("--args that is not an array", async () => {
    const result = await runCli(["task", "add", `${TASKS}:add`, "--args", '{"a":1}', "-u", MEMORY]);
    expect(expectOneLineError(result, 2)).toContain("--args must be a JSON array");
  });

  it.each([
    ["task", "info"],
    ["task", "cancel"],
    ["task", "delete"],
    ["workflow", "info"],
    ["workflow", "cancel"],
    ["cron", "delete"],
  ])("an empty id to %s %s is a wrong command line", async (group, command) => {
    const result = await runCli([group, command, "", "-u", MEMORY]);
    expect(expectOneLineError(result, 2)).toBe(
      "error: command-argument value '' is invalid for argument 'id'. It must not be empty.",
    );
  });

  it("an unknown task names the tasks the module has", async () => {
    const result = await runCli(["task", "add", `${TASKS}:nope`, "-u", MEMORY]);
    expect(expectOneLineError(result, 1)).toBe(
      `error: unknown task 'nope' in module '${TASKS}' (its tasks: add, fail, flaky, nap)`,
    );
  });

  it("an export name a letter or two off a task's or workflow's asks whether that one was meant", async () => {
    const task = await runCli(["task", "add", `${TASKS}:flakey`, "-u", MEMORY]);
    expect(expectOneLineError(task, 1)).toBe(
      `error: unknown task 'flakey' in module '${TASKS}' — did you mean 'flaky'? (its tasks: add, fail, flaky, nap)`,
    );
    const flow = await runCli(["workflow", "add", `${TASKS}:twoStep`, "-u", MEMORY]);
    expect(expectOneLineError(flow, 1)).toMatch(
      /^error: unknown workflow 'twoStep' in module '.+' — did you mean 'twoSteps'\? \(its workflows: /,
    );
  });

  it("a task named without its module (no file of that name) says the reference is <module>:<export>", async () => {
    const result = await runCli(["task", "add", "emails.send", "-u", MEMORY]);
    expect(expectOneLineError(result, 1)).toMatch(
      /^error: cannot load module 'emails\.send': Cannot find module '.+emails\.send' .*; a task is named by its module and the name the module exports it under \(not the task's own name\), <module>:<export>, e\.g\. \.\/tasks\.ts:sendEmail$/,
    );
  });

  it("an export that is not a task", async () => {
    const result = await runCli(["task", "add", `${TASKS}:helper`, "-u", MEMORY]);
    expect(expectOneLineError(result, 1)).toContain("'helper' in module");
  });

  it("a workflow where a task is expected says it is a workflow", async () => {
    const result = await runCli(["task", "add", `${TASKS}:twoSteps`, "-u", MEMORY]);
    expect(expectOneLineError(result, 1)).toBe(
      `error: 'twoSteps' in module '${TASKS}' is a workflow, not a task: start it with sheppy workflow add ${TASKS}:twoSteps (its tasks: add, fail, flaky, nap)`,
    );
  });

  it("a task module whose own top-level code adds and waits says that this code ran when it was imported", async () => {
    const fixture = "test/fixtures/cli/top-level-wait.ts";
    const result = await runCli(["work", "-u", MEMORY, "--oneshot", "--tasks", fixture]);
    expect(expectOneLineError(result, 1)).toMatch(
      new RegExp(
        `^error: cannot load module '${fixture}': Did not complete within 0\\.1 seconds.* \\(thrown by the module's own top-level code while it was imported: a task module is imported to learn its tasks, so code in it that adds or waits for tasks runs too — keep that code in another file\\)$`,
      ),
    );
  });

  it("a module that does not exist", async () => {
    const result = await runCli(["task", "add", "./no-such-module.ts:x", "-u", MEMORY]);
    expect(expectOneLineError(result, 1)).toMatch(
      /^error: cannot load module '\.\/no-such-module\.ts'/,
    );
  });

  it("a syntax error in a task module names its file, line and column (TypeScript and JavaScript)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sheppy-syntax-"));
    writeFileSync(join(dir, "package.json"), '{ "type": "module" }');
    for (const file of ["broken.ts", "broken.js"]) {
      writeFileSync(join(dir, file), "export const a = 1;\nconst b = (;\n");
      const path = join(dir, file);
      const result = await runCli(["work", "-u", MEMORY, "--oneshot", "--tasks", path]);
      expect(expectOneLineError(result, 1)).toMatch(
        new RegExp(`^error: cannot load module '${path}': ${path}:2:1[12]: Unexpected`),
      );
    }
  });

  it("TypeScript task modules of a CommonJS package load, written with ES syntax (through a tsconfig paths alias) or require(); a .cts one says what to change", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sheppy-cjs-"));
    writeFileSync(join(dir, "package.json"), '{ "type": "commonjs" }');
    writeFileSync(
      join(dir, "tsconfig.json"),
      '{ "compilerOptions": { "baseUrl": ".", "paths": { "@/*": ["./*"] } } }',
    );
    // They require() the package, so it is installed there as an app would have it.
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(ROOT, join(dir, "node_modules", "sheppy"), "dir");
    mkdirSync(join(dir, "lib"));
    writeFileSync(join(dir, "lib", "double.ts"), "export const double = (n: number) => n * 2;\n");
    const modules = {
      "tasks.ts":
        'import { task } from "sheppy";\nimport { double } from "@/lib/double";\nexport const t = task({ name: "cjs.t" }, (n: number) => double(n));\n',

      "required.ts":
        'const { task } = require("sheppy");\nmodule.exports = { t: task({ name: "cjs.req" }, (n: number) => n) };\n',
    };
    for (const [file, text] of Object.entries(modules)) {
      const path = join(dir, file);
      writeFileSync(path, text);
      // The worker's own copy defines them: its start names them among the tasks it knows.
      // tsx reads the tsconfig.json of the working directory, or the one this names.
      const result = await runCli(["work", "-u", MEMORY, "--oneshot", "--tasks", path], {
        TSX_TSCONFIG_PATH: join(dir, "tsconfig.json"),
      });
      expect([file, result.code, result.stderr]).toEqual([file, 0, ""]);
      const name = /name: "([^"]+)"/.exec(text)![1];
      expect(result.stdout).toContain(`"tasks":["${name}"]`);
      expect(result.stdout).not.toContain("two copies of sheppy");
    }
    // A task named by its export (`sheppy task add`) is found too: Node.js sees a CommonJS
    // module's exports by name only when it can read them in its code, which tsx's output hides.
    const added = await runCli(
      ["task", "add", `${join(dir, "tasks.ts")}:t`, "--args", "[2]", "-u", MEMORY],
      { TSX_TSCONFIG_PATH: join(dir, "tsconfig.json") },
    );
    expect([added.code, added.stderr]).toEqual([0, ""]);
    // Node.js 20 loads a .cts module through its ES module loader, whose require() cannot
    // return an ES module such as Sheppy.
    const cts = join(dir, "tasks.cts");
    writeFileSync(
      cts,
      'import { task } from "sheppy";\nexport const t = task({ name: "cjs.cts" }, () => 1);\n',
    );
    const ctsResult = await runCli(["work", "-u", MEMORY, "--oneshot", "--tasks", cts]);
    expect(expectOneLineError(ctsResult, 1)).toMatch(
      /a \.cts module is CommonJS, which cannot require\(\) Sheppy \(an ES module\) when loaded as a task module — rename it \.mts/,
    );
    // Four processes, each compiling TypeScript through tsx's CommonJS hook: about 15 s alone,
    // over a minute while the rest of the suite runs beside it.
  }, 180_000);

  it("an unreachable backend", async () => {
    const result = await runCli([
      "task",
      "add",
      `${TASKS}:add`,
      "--args",
      "[1,2]",
      "-u",
      UNREACHABLE,
    ]);
    expect(expectOneLineError(result, 1)).toMatch(
      /^error: cannot connect to Redis at redis:\/\/127\.0\.0\.1:1: connection refused/,
    );
  });

  it("a malformed backend URL", async () => {
    const result = await runCli(["queue", "list", "-u", "not a url"]);
    expect(expectOneLineError(result, 2)).toMatch(/^error: Invalid backend URL 'not a url'/);
  });

  it("an unsupported backend scheme", async () => {
    const result = await runCli(["queue", "list", "-u", "mysql://db"]);
    expect(expectOneLineError(result, 2)).toContain("Unsupported backend protocol 'mysql://'");
  });

  it("CFG-1: no backend URL at all", async () => {
    const result = await runCli(["task", "list"]);
    expect(expectOneLineError(result, 2)).toContain("no backend URL");
  });

  it("task add with --delay or --at points at task schedule", async () => {
    const result = await runCli(["task", "add", `${TASKS}:add`, "--delay", "1h30m", "-u", MEMORY]);
    expect(expectOneLineError(result, 2)).toBe(
      "error: task add runs the task as soon as a worker is free; to run it later use sheppy task schedule <task> --delay …",
    );
  });

  it("--delay together with --at", async () => {
    const result = await runCli([
      "task",
      "schedule",
      `${TASKS}:add`,
      "--args",
      "[1,2]",
      "--delay",
      "5m",
      "--at",
      "2030-01-01T00:00:00Z",
      "-u",
      MEMORY,
    ]);
    expect(expectOneLineError(result, 2)).toBe("error: use either --delay or --at, not both");
  });

  it("--at without a UTC offset is refused, as queue.schedule refuses it", async () => {
    const result = await runCli([
      "task",
      "schedule",
      `${TASKS}:add`,
      "--args",
      "[1,2]",
      "--at",
      "2030-01-01T09:00:00",
      "-u",
      MEMORY,
    ]);
    expect(expectOneLineError(result, 2)).toBe(
      "error: --at: cannot read '2030-01-01T09:00:00' as a time: it has no UTC offset; add Z or ±hh:mm (e.g. 2030-01-01T09:00:00Z)",
    );
  });

  it("--at with an impossible date (February 30th) is refused, not rolled over to March", async () => {
    const result = await runCli([
      "task",
      "schedule",
      `${TASKS}:add`,
      "--args",
      "[1,2]",
      "--at",
      "2030-02-30T09:00:00Z",
      "-u",
      MEMORY,
    ]);
    expect(expectOneLineError(result, 2)).toBe(
      "error: --at: '2030-02-30T09:00:00Z' is not a valid date",
    );
  });

  it("a duration it cannot read", async () => {
    const result = await runCli([
      "task",
      "schedule",
      `${TASKS}:add`,
      "--delay",
      "5 parsecs",
      "-u",
      MEMORY,
    ]);
    expect(expectOneLineError(result, 2)).toBe(
      "error: --delay must be a duration such as 30s, 5m, 2h, 1d or 1h30m (units d, h, m, s, ms, largest first, each at most once; a bare number is seconds) (got '5 parsecs')",
    );
  });

  it("a --delay past what schedule takes names the flag and echoes what was typed", async () => {
    const result = await runCli([
      "task",
      "schedule",
      `${TASKS}:add`,
      "--delay",
      "4000d",
      "-u",
      MEMORY,
    ]);
    expect(expectOneLineError(result, 2)).toBe(
      "error: --delay must be at most 10 years (315360000 s) (got '4000d', 345600000 s)",
    );
  });

  it("--delay takes a compound duration such as 1h30m", async () => {
    const result = await runCli([
      "task",
      "schedule",
      `${TASKS}:add`,
      "--args",
      "[1,2]",
      "--delay",
      "1h30m",
      "-u",
      MEMORY,
      "--format",
      "json",
    ]);
    const record = json<{ status: string; createdAt: string; scheduledAt: string }>(result);
    expect(record.status).toBe("scheduled");
    const delay = Date.parse(record.scheduledAt) - Date.parse(record.createdAt);
    expect(delay).toBeGreaterThanOrEqual(5400_000);
    expect(delay).toBeLessThan(5400_000 + 10_000);
  });

  it("--at in the past is refused naming the flag, not the API", async () => {
    const result = await runCli([
      "task",
      "schedule",
      `${TASKS}:add`,
      "--args",
      "[1,2]",
      "--at",
      "2020-01-01T00:00:00Z",
      "-u",
      MEMORY,
    ]);
    expect(expectOneLineError(result, 2)).toMatch(
      /^error: --at: 2020-01-01T00:00:00Z is in the past \(it is \d{4}-\d\d-\d\dT[\d:.]+Z now\)$/,
    );
  });

  it("CFG-5: concurrency 0 from the flag, and 'invalid' from SHEPPY_MAX_CONCURRENT_TASKS", async () => {
    const flag = await runCli(["work", "-u", MEMORY, "-c", "0"]);
    expect(expectOneLineError(flag, 2)).toContain("It must be an integer ≥ 1.");
    const env = await runCli(["work", "-u", MEMORY], { SHEPPY_MAX_CONCURRENT_TASKS: "invalid" });
    expect(expectOneLineError(env, 2)).toContain("from env 'SHEPPY_MAX_CONCURRENT_TASKS'");
  });

  it("CFG-6: a negative shutdown timeout", async () => {
    const result = await runCli(["work", "-u", MEMORY], { SHEPPY_SHUTDOWN_TIMEOUT: "-1" });
    expect(expectOneLineError(result, 2)).toContain("It must be a number of seconds ≥ 0.");
  });

  it("CFG-7: an unknown log level", async () => {
    const result = await runCli(["work", "-u", MEMORY], { SHEPPY_LOG_LEVEL: "verbose" });
    expect(expectOneLineError(result, 2)).toContain("from env 'SHEPPY_LOG_LEVEL' is invalid");
  });

  it("a boolean variable with a value that is not a boolean", async () => {
    const result = await runCli(["work", "-u", MEMORY], { SHEPPY_ONESHOT: "maybe" });
    expect(expectOneLineError(result, 2)).toBe(
      "error: SHEPPY_ONESHOT must be true, 1, yes or on, or false, 0, no, off or empty (got 'maybe')",
    );
  });

  it("WK-2: job processing, scheduler and cron manager all disabled", async () => {
    const result = await runCli([
      "work",
      "-u",
      MEMORY,
      "--disable-job-processing",
      "--disable-scheduler",
      "--disable-cron-manager",
    ]);
    expect(expectOneLineError(result, 2)).toContain("Worker has nothing to do");
  });

  it("a worker with no task modules refuses to start (exit 2); so does one whose modules define no task", async () => {
    const none = await runCli(["work", "-u", MEMORY, "--oneshot"]);
    expect(expectOneLineError(none, 2)).toMatch(
      /^error: no task modules given \(pass --tasks <module>, or list them under "tasks" in .*sheppy\.config\.json\); a worker that knows no tasks cannot run any \(--disable-job-processing runs only the scheduler and cron manager\)$/,
    );
    const empty = await runCli(["work", "-u", MEMORY, "--oneshot", "--tasks", PRESTART]);
    expect(expectOneLineError(empty, 2)).toContain(
      `the task modules given (${PRESTART}) define no tasks`,
    );
    // Without job processing it knows no task on purpose: it starts, and stops on SIGTERM.
    const schedulerOnly = new WorkerProcess(["-u", MEMORY, "--disable-job-processing"]);
    await schedulerOnly.waitFor((r) => r.msg === "worker started", "worker started");
    schedulerOnly.signal("SIGTERM");
    expect(await schedulerOnly.exited).toBe(0);
  });

  it("an unknown command or option gets commander's one line", async () => {
    expectOneLineError(await runCli(["task", "frobnicate"]), 2);
    expectOneLineError(await runCli(["work", "--no-such-option"]), 2);
  });

  it("sheppy worker given what sheppy work takes says which one runs a worker, in the same line", async () => {
    const hint = "(sheppy work runs a worker; sheppy worker list lists the running ones)";
    expect(expectOneLineError(await runCli(["worker", "-t", "./tasks.ts"]), 2)).toBe(
      `error: unknown option '-t' ${hint}`,
    );
    expect(expectOneLineError(await runCli(["worker", "start"]), 2)).toBe(
      `error: unknown command 'start' ${hint}`,
    );
    // worker list's own errors are its own.
    expect(expectOneLineError(await runCli(["worker", "list", "--bogus"]), 2)).toBe(
      "error: unknown option '--bogus'",
    );
  });

  /** An add that cannot reach its backend, at `--log-level <level>`. */
  const unreachableAdd = (level: string) =>
    runCli([
      "task",
      "add",
      `${TASKS}:add`,
      "--args",
      "[1,2]",
      "-u",
      UNREACHABLE,
      "--log-level",
      level,
    ]);

  it.each(["debug", "trace"])(
    "--log-level %s adds the stack trace after the line",
    async (level) => {
      const result = await unreachableAdd(level);
      expect(result.code).toBe(1);
      const [first, ...rest] = result.stderr.trimEnd().split("\n");
      expect(first).toMatch(/^error: cannot connect to Redis/);
      expect(rest.join("\n")).toMatch(
        /BackendUnavailableError: cannot connect to Redis[\s\S]*\n\s+at /,
      );
    },
  );

  it("--log-level silent still says on stderr why the command failed, in its one line", async () => {
    expect(expectOneLineError(await unreachableAdd("silent"), 1)).toMatch(
      /^error: cannot connect to Redis/,
    );
  });
});
