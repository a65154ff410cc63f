/**
 * Settings of the built CLI: defaults, `SHEPPY_*` variables, flags that win
 * over them, the prestart hook, `--version`, `--help`, and `task test`. On
 * `memory://` with `--oneshot`, so no server is needed. Issue #5, BEHAVIOURS
 * CFG-1…CFG-3, CFG-8…CFG-11.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  expectOneLineError,
  PRESTART,
  ROOT,
  runCli,
  TASKS,
  WorkerProcess,
} from "../support/cli.js";

/**
 * Runs a oneshot worker on memory:// and returns its banner record and the
 * process. It loads the fixture tasks unless the arguments or environment
 * name task modules: a worker without any refuses to start.
 */
async function oneshot(args: string[], env: Record<string, string> = {}) {
  const namesTasks = args.includes("--tasks") || args.includes("-t") || "SHEPPY_TASKS" in env;
  const tasks = namesTasks ? [] : ["--tasks", TASKS];
  const worker = new WorkerProcess(["--oneshot", ...tasks, ...args], env);
  const code = await worker.exited;
  const banner = worker.records.find((r) => r.msg === "worker started");
  return { worker, code, banner };
}

describe.concurrent("sheppy work: settings", () => {
  it("CFG-11: `work --backend-url memory://` starts and exits 0 when the worker returns", async () => {
    const { code, worker } = await oneshot(["--backend-url", "memory://"]);
    expect(code).toBe(0);
    expect(worker.records.map((r) => r.msg)).toEqual(
      expect.arrayContaining(["worker started", "worker stopped"]),
    );
  });

  it("CFG-1: defaults — queue 'default', concurrency 10, shutdown timeout 30, every loop on", async () => {
    const { banner } = await oneshot(["-u", "memory://"]);
    expect(banner).toMatchObject({
      queues: ["default"],
      concurrency: 10,
      prefetch: 10,
      shutdownTimeout: 30,
      loops: ["job processing", "scheduler", "cron manager"],
      tasks: expect.arrayContaining(["cli.add"]),
    });
  });

  it("CFG-2/CFG-3: SHEPPY_* variables are read and converted; the queue list is split on commas", async () => {
    const { banner, code } = await oneshot([], {
      SHEPPY_BACKEND_URL: "memory://",
      SHEPPY_QUEUE: " q1,,q2 ,q3",
      SHEPPY_MAX_CONCURRENT_TASKS: "5",
      SHEPPY_PREFETCH: "2",
      SHEPPY_SHUTDOWN_TIMEOUT: "15.5",
      SHEPPY_TASKS: TASKS,
      SHEPPY_DISABLE_SCHEDULER: "true",
      SHEPPY_DISABLE_CRON_MANAGER: "0",
    });
    expect(code).toBe(0);
    expect(banner).toMatchObject({
      queues: ["q1", "q2", "q3"],
      concurrency: 5,
      prefetch: 2,
      shutdownTimeout: 15.5,
      loops: ["job processing", "cron manager"],
      tasks: ["cli.add", "cli.fail", "cli.flaky", "cli.nap"],
    });
  });

  it("CFG-8: flags win over the environment", async () => {
    const { banner } = await oneshot(["-u", "memory://", "-q", "flagged", "-c", "7"], {
      SHEPPY_BACKEND_URL: "redis://127.0.0.1:1",
      SHEPPY_QUEUE: "from-env",
      SHEPPY_MAX_CONCURRENT_TASKS: "5",
    });
    expect(banner).toMatchObject({ backend: "memory://", queues: ["flagged"], concurrency: 7 });
  });

  it("a SHEPPY_* variable no command reads is named once on stderr, with the one it most likely stands for; it changes nothing", async () => {
    const { banner, worker, code } = await oneshot(["-u", "memory://"], {
      SHEPPY_CONCURRENCY: "50",
      SHEPPY_QUEU: "typo",
      SHEPPY_SOMETHING_ELSE: "1",
      SHEPPY_MAX_TASKS: "5",
    });
    expect(code).toBe(0);
    expect(banner).toMatchObject({ queues: ["default"], concurrency: 10 });
    expect(worker.stderr.trimEnd().split("\n")).toEqual([
      "warning: SHEPPY_CONCURRENCY is set, but sheppy reads no variable of that name, so it changes nothing (did you mean SHEPPY_MAX_CONCURRENT_TASKS?)",
      "warning: SHEPPY_QUEU is set, but sheppy reads no variable of that name, so it changes nothing (did you mean SHEPPY_QUEUE?)",
      "warning: SHEPPY_SOMETHING_ELSE is set, but sheppy reads no variable of that name, so it changes nothing",
    ]);
  });

  it("the banner masks the password of the backend URL", async () => {
    const { banner, worker } = await oneshot(["-u", "memory://admin:s3cret@localhost"]);
    expect(banner?.backend).toBe("memory://admin:****@localhost");
    expect(JSON.stringify(worker.records)).not.toContain("s3cret");
  });

  it("CFG-7: the log level is case-insensitive; 'warning' hides info records", async () => {
    const { worker, code } = await oneshot(["-u", "memory://"], { SHEPPY_LOG_LEVEL: "WARNING" });
    expect(code).toBe(0);
    expect(worker.records).toEqual([]);
  });

  it("task modules can come from the config file's `tasks`, relative to the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sheppy-cli-"));
    const config = join(dir, "sheppy.config.json");
    writeFileSync(config, JSON.stringify({ tasks: [join(ROOT, TASKS)] }));
    const { banner } = await oneshot(["-u", "memory://", "--config", config]);
    expect(banner?.tasks).toEqual(["cli.add", "cli.fail", "cli.flaky", "cli.nap"]);
  });

  it("a config file named by --config or SHEPPY_CONFIG must exist; the default one may be absent", async () => {
    const missing = join(tmpdir(), `sheppy-no-such-config-${process.pid}.json`);
    for (const [args, env] of [
      [["--config", missing], {}],
      [[], { SHEPPY_CONFIG: missing }],
    ] as const) {
      const { worker, code, banner } = await oneshot(["-u", "memory://", ...args], env);
      expect(code).toBe(2);
      expect(banner).toBeUndefined();
      expect(worker.stderr).toContain(`config file ${missing} does not exist`);
      expect(worker.stderr.trim().split("\n")).toHaveLength(1);
    }
    // The test process's working directory holds no sheppy.config.json: the default is simply absent.
    const { code } = await oneshot(["-u", "memory://", "--tasks", TASKS]);
    expect(code).toBe(0);
  });

  it("compiled .js task modules load as they are", async () => {
    const { banner } = await oneshot([
      "-u",
      "memory://",
      "--tasks",
      "test/fixtures/cli/compiled-tasks.js",
    ]);
    expect(banner?.tasks).toEqual(["cli.js-double"]);
    const result = await runCli([
      "task",
      "test",
      "test/fixtures/cli/compiled-tasks.js:double",
      "--args",
      "[21]",
    ]);
    expect(result).toMatchObject({ code: 0, stdout: "42\n" });
  });

  it("CFG-9: --prestart runs the hook once, before the worker starts", async () => {
    const { worker, code } = await oneshot([
      "-u",
      "memory://",
      "--prestart",
      `${PRESTART}:announce`,
    ]);
    expect(code).toBe(0);
    expect(worker.plainLines).toEqual(["prestart ran for default"]);
    const started = worker.lines.findIndex((line) => line.includes('"msg":"worker started"'));
    expect(worker.lines.indexOf("prestart ran for default")).toBeLessThan(started);
  });

  it("a worker left running on memory:// (or sqlite://:memory:) warns that no other process can add to its queues; a oneshot one does not", async () => {
    for (const url of ["memory://", "sqlite://:memory:"]) {
      const worker = new WorkerProcess(["-u", url, "--tasks", TASKS]);
      const warning = await worker.waitFor(
        (r) => r.level === 40 && String(r.msg).includes("keeps its tasks inside this process"),
        `in-process warning for ${url}`,
      );
      expect(warning.msg).toBe(
        `${url} keeps its tasks inside this process: only what this process adds (a prestart hook, crons) reaches this worker, and no other process can add to its queues; share a queue with redis://, postgres:// or sqlite:///path/to/file.db`,
      );
      worker.signal("SIGTERM");
      expect(await worker.exited).toBe(0);
    }
    const { worker, code } = await oneshot(["-u", "memory://"]);
    expect(code).toBe(0);
    expect(worker.lines.join("\n")).not.toContain("inside this process");
  });

  it("CFG-10: a prestart hook that throws exits non-zero and the worker never starts", async () => {
    const worker = new WorkerProcess(["-u", "memory://", "--prestart", `${PRESTART}:explode`]);
    const code = await worker.exited;
    expect(code).toBe(1);
    expect(worker.records.map((r) => r.msg)).not.toContain("worker started");
    expect(worker.stderr).toBe(
      `error: prestart hook ${PRESTART}:explode failed: prestart exploded\n`,
    );
  });

  it("CFG-10: a prestart hook that cannot be resolved exits non-zero and the worker never starts", async () => {
    const worker = new WorkerProcess(["-u", "memory://", "--prestart", `${PRESTART}:missing`]);
    expect(await worker.exited).not.toBe(0);
    expect(worker.stderr).toMatch(/^error: module '.+' has no export 'missing'/);
    // Nothing but the error that ended it, as a fatal record among its JSON lines.
    expect(worker.records.map((r) => [r.level, `${r.msg}\n`])).toEqual([[60, worker.stderr]]);
  });
});

describe.concurrent("sheppy: version, help, task test", () => {
  it("--version prints the package version and the stored formats it writes", async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      version: string;
    };
    const result = await runCli(["--version"]);
    const newest = (dir: string) =>
      Math.max(
        ...readdirSync(join(ROOT, "src/backends", dir, "migrations")).map((f) => parseInt(f, 10)),
      );
    expect(result).toMatchObject({
      code: 0,
      stdout: `${version} (Redis data format 1, Redis task records v4; PostgreSQL schema ${newest("postgres")}; SQLite schema ${newest("sqlite")})\n`,
    });
  });

  it("--help works on every command", async () => {
    const commands = [
      [],
      ["work"],
      ["task"],
      ...["list", "info", "add", "schedule", "test", "retry", "cancel", "delete"].map((c) => [
        "task",
        c,
      ]),
      ["queue"],
      ["queue", "list"],
      ["cron"],
      ["cron", "list"],
    ];
    const results = await Promise.all(commands.map((path) => runCli([...path, "--help"])));
    results.forEach((result, index) => {
      expect(result.code, commands[index]!.join(" ")).toBe(0);
      expect(result.stdout).toMatch(
        // A command with an alias shows it beside its name (`queue list|stats`).
        new RegExp(`^Usage: sheppy${commands[index]!.map((c) => ` ${c}`).join("")}(\\|\\w+)? `),
      );
    });
  });

  it("`task test` runs a task in-process and prints its result", async () => {
    const result = await runCli(["task", "test", `${TASKS}:add`, "--args", "[20, 22]"]);
    expect(result).toMatchObject({ code: 0, stdout: "42\n", stderr: "" });
  });

  it("`task test` of a failing task prints the error in one line and exits 1", async () => {
    const result = await runCli(["task", "test", `${TASKS}:fail`, "--args", '["kaput"]']);
    expect(expectOneLineError(result, 1)).toMatch(
      /^error: task [0-9a-f-]{36} failed: TypeError: kaput$/,
    );
  });

  it("`task test --format json` prints the whole record", async () => {
    const result = await runCli([
      "task",
      "test",
      `${TASKS}:add`,
      "--args",
      "[1, 2]",
      "--format",
      "json",
    ]);
    expect(JSON.parse(result.stdout)).toMatchObject({
      name: "cli.add",
      status: "completed",
      result: 3,
    });
  });
});
