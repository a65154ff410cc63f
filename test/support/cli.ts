/**
 * The built `sheppy` CLI as a child process: run a command to completion, or
 * start a worker and read its JSON log records as they come. Tests use the
 * real bin (`node dist/cli/main.js`), never the CLI's functions.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { outputOf } from "./processes.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BIN = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

/** The fixture module the CLI tests load, as a path relative to the repository root (the CLI's cwd). */
export const TASKS = "test/fixtures/cli/tasks.ts";
export const PRESTART = "test/fixtures/cli/prestart.ts";

/** Environment for a spawned CLI: no inherited `SHEPPY_*` variable leaks into a test. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith("SHEPPY_")),
  );
  return { ...clean, ...env };
}

function spawnCli(
  args: readonly string[],
  env: Record<string, string>,
  stdin: "ignore" | "pipe" = "ignore",
): ChildProcess {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build first`);
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: childEnv(env),
    stdio: [stdin, "pipe", "pipe"],
  });
  child.stdout?.setEncoding("utf8");
  child.stderr?.setEncoding("utf8");
  return child;
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `sheppy <args>` to completion; `input`, when given, is its standard input. */
export function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
  input?: string,
): Promise<CliResult> {
  const child = spawnCli(args, env, input === undefined ? "ignore" : "pipe");
  child.stdin?.end(input);
  // A signal's end reads as no exit code, as `close` gives it.
  return outputOf(child).then(({ code, stdout, stderr }) => ({
    code: typeof code === "number" ? code : null,
    stdout,
    stderr,
  }));
}

/** Parses stdout of a `--format json` command. */
export function json<T = unknown>(result: CliResult): T {
  if (result.code !== 0) {
    throw new Error(`sheppy exited ${result.code}: ${result.stderr}`);
  }
  return JSON.parse(result.stdout) as T;
}

/** One pino record of `sheppy work --log-format json`. */
export interface LogRecord {
  readonly msg: string;
  readonly level: number;
  readonly taskId?: string;
  readonly [field: string]: unknown;
}

/** A `sheppy work` process and what it printed so far. */
export class WorkerProcess {
  readonly child: ChildProcess;
  /** Parsed JSON log records, in order. */
  readonly records: LogRecord[] = [];
  /** Lines of stdout that are not JSON (e.g. a prestart hook's output). */
  readonly plainLines: string[] = [];
  /** Every line of stdout, in order. */
  readonly lines: string[] = [];
  stderr = "";
  readonly #waiters = new Set<() => void>();
  readonly exited: Promise<number | null>;

  constructor(args: readonly string[], env: Record<string, string> = {}) {
    this.child = spawnCli(["work", "--log-format", "json", ...args], env);
    let pending = "";
    this.child.stdout?.on("data", (chunk: string) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (line.trim() === "") continue;
        this.lines.push(line);
        try {
          this.records.push(JSON.parse(line) as LogRecord);
        } catch {
          this.plainLines.push(line);
        }
      }
      for (const wake of this.#waiters) wake();
    });
    this.child.stderr?.on("data", (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.child.once("close", (code) => {
        for (const wake of this.#waiters) wake();
        resolve(code);
      });
    });
  }

  /** Resolves with the first record matching `match`; rejects if the process exits first or `ms` pass. */
  waitFor(match: (record: LogRecord) => boolean, what: string, ms = 15_000): Promise<LogRecord> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no log record '${what}' within ${ms} ms; stderr: ${this.stderr}`));
      }, ms);
      const check = () => {
        const found = this.records.find(match);
        if (found || this.child.exitCode !== null) {
          clearTimeout(timer);
          this.#waiters.delete(check);
          if (found) resolve(found);
          else reject(new Error(`worker exited before '${what}'; stderr: ${this.stderr}`));
        }
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** Resolves once the worker has logged `msg` about task `taskId`. */
  waitForTask(taskId: string, msg: string): Promise<LogRecord> {
    return this.waitFor((r) => r.taskId === taskId && r.msg === msg, `${msg} ${taskId}`);
  }

  /** Records about one task (`task started`, `task completed`, …), as their messages. */
  messagesFor(taskId: string): string[] {
    return this.records.filter((r) => r.taskId === taskId).map((r) => r.msg);
  }

  /** Sends a signal if the process still runs. */
  signal(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null) this.child.kill(signal);
  }
}

/** A Redis URL with a key prefix of its own (one per test file). */
export function redisUrlWithPrefix(base: string, prefix: string): string {
  const url = new URL(base);
  url.searchParams.set("prefix", prefix);
  return url.toString();
}

/**
 * Asserts the shape of a CLI error — a non-zero exit and exactly one
 * `error: …` line on stderr, so no stack trace — and returns that line.
 */
/** The warning `sheppy` prints when `--backend-url` holds a password. */
export const PASSWORD_IN_ARGUMENTS_WARNING =
  "warning: the backend URL given with --backend-url holds a password, which other users of this machine can read in the process list while the command runs; give the URL in SHEPPY_BACKEND_URL instead\n";

/** `stderr` without the password warning (tests that give a password with -u on purpose). */
export function withoutPasswordWarning(stderr: string): string {
  return stderr.startsWith(PASSWORD_IN_ARGUMENTS_WARNING)
    ? stderr.slice(PASSWORD_IN_ARGUMENTS_WARNING.length)
    : stderr;
}

export function expectOneLineError(result: CliResult, exitCode?: number): string {
  expect(result.code, `stdout: ${result.stdout}`).not.toBe(0);
  if (exitCode !== undefined) expect(result.code).toBe(exitCode);
  // The warning about a password given with -u comes first when a test gives one that way.
  const lines = withoutPasswordWarning(result.stderr).trimEnd().split("\n");
  expect(lines, "stderr lines").toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  return lines[0]!;
}

/** A running `sheppy dashboard` and the address it printed. */
export interface DashboardServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly origin: string;
  /** What it has written to standard error so far (all of it once stopped). */
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts `sheppy dashboard --port 0 <args>` and resolves once it listens. */
export function startDashboard(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<DashboardServer> {
  const child = spawnCli(["dashboard", "--port", "0", ...args], env);
  let stdout = "";
  let stderr = "";
  child.stderr?.on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`sheppy dashboard did not start within 40 s; stderr: ${stderr}`));
    }, 40_000);
    child.once("close", (code) => {
      clearTimeout(timer);
      reject(new Error(`sheppy dashboard exited ${code}; stderr: ${stderr}`));
    });
    child.stdout?.on("data", (chunk: string) => {
      stdout += chunk;
      const found = /Sheppy dashboard on (http:\/\/\S+?)\/ /.exec(stdout);
      if (!found) return;
      clearTimeout(timer);
      resolve({
        origin: found[1]!,
        stderr: () => stderr,
        stop: async () => {
          if (child.exitCode === null) child.kill("SIGTERM");
          await exited;
        },
      });
    });
  });
}
