/**
 * @module cli/env
 * Every setting of the `sheppy` CLI in one table: its flag, its `SHEPPY_*`
 * environment variable, its default and how its text is checked. Commander
 * applies the precedence (flag, then environment, then default); the parsers
 * here reject bad values from either source with one line (CFG-2…CFG-7).
 *
 * Per-invocation inputs (a task's `--args`, ids, `--status` filters, `--wait`)
 * deliberately have no variable: a stray variable must not change what a
 * command does to one task.
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { CliUsageError } from "../errors.js";
import { queueNameProblem } from "../queue/queue-name.js";

/** Log levels as users write them (CFG-7); `warning` is stored as pino's `warn`. */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";

/** Whether `level` asks for the stacks of errors on a terminal: at debug and at trace, which logs more. */
export function wantsStacks(level: string | undefined): boolean {
  return level === "debug" || level === "trace";
}
/** `table` for people, `json` for scripts. */
export type OutputFormat = "table" | "json";
/** `auto`: human-readable on a terminal, JSON lines otherwise. */
export type LogFormat = "auto" | "pretty" | "json";

/** Splits a comma-separated list, trimming items and dropping empty ones (CFG-3). */
export function splitList(raw: string): string[] {
  return raw
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function nonEmptyList(what: string): (raw: string) => string[] {
  return (raw) => {
    const items = splitList(raw);
    if (items.length === 0) throw new InvalidArgumentError(`It needs at least one ${what}.`);
    return items;
  };
}

/** Origins (`scheme://host[:port]`, as a browser's `Origin` header names them), each checked. */
function originList(raw: string): string[] {
  const origins = nonEmptyList("origin")(raw);
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || parsed.origin !== origin) {
      throw new InvalidArgumentError(
        `'${origin}' is not an origin: write scheme://host[:port], nothing after it (https://admin.example.com).`,
      );
    }
  }
  return origins;
}

/**
 * Queue names, each checked before any command acts on the first: a list
 * with a bad name in it changes no queue.
 */
function queueNameList(raw: string): string[] {
  const names = nonEmptyList("queue name")(raw);
  for (const name of names) {
    const problem = queueNameProblem(name);
    if (problem !== null) throw new InvalidArgumentError(`${problem}.`);
  }
  return names;
}

/**
 * Digits only: `Number()` alone would also read `0x10` as 16, `1e3` as 1000
 * and `Infinity`, none of which a person means by a count.
 */
export const WHOLE_NUMBER = /^\d+$/;
/** A decimal number of seconds, `1.5` but not `1e3` or `0x10`. */
const DECIMAL = /^(?:\d+(?:\.\d*)?|\.\d+)$/;

/** An id argument: any text but the empty string, which names no record (a shell variable left unset, say). */
export function nonEmptyId(raw: string): string {
  if (raw === "") throw new InvalidArgumentError("It must not be empty.");
  return raw;
}

export function positiveInteger(raw: string): number {
  const value = Number(raw.trim());
  if (!WHOLE_NUMBER.test(raw.trim()) || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError("It must be an integer ≥ 1.");
  }
  return value;
}

function portNumber(raw: string): number {
  const value = Number(raw.trim());
  if (!WHOLE_NUMBER.test(raw.trim()) || value > 65535) {
    throw new InvalidArgumentError(
      "It must be a port number from 0 to 65535 (0 picks a free one).",
    );
  }
  return value;
}

function positiveSeconds(raw: string): number {
  const value = Number(raw.trim());
  if (!DECIMAL.test(raw.trim()) || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError("It must be a number of seconds > 0.");
  }
  return value;
}

function secondsAtLeastZero(raw: string): number {
  const value = Number(raw.trim());
  if (!DECIMAL.test(raw.trim()) || !Number.isFinite(value)) {
    throw new InvalidArgumentError("It must be a number of seconds ≥ 0.");
  }
  return value;
}

/** A case-insensitive choice; `names` maps what users write to the stored value. */
function oneOf<T extends string>(names: Record<string, T>) {
  return (raw: string): T => {
    const found = names[raw.trim().toLowerCase()];
    if (found === undefined) {
      throw new InvalidArgumentError(`It must be one of: ${Object.keys(names).join(", ")}.`);
    }
    return found;
  };
}

interface Setting {
  readonly flags: string;
  readonly env: string;
  readonly description: string;
  readonly parse?: (raw: string) => unknown;
  readonly default?: { readonly value: unknown; readonly label?: string };
}

/** The settings table. Keys name settings here; commands read commander's attribute names (`--queue` → `queue`). */
export const SETTINGS = {
  backendUrl: {
    flags: "-u, --backend-url <url>",
    env: "SHEPPY_BACKEND_URL",
    description:
      "backend URL: redis://[:password@]host:port[/db][?prefix=name], rediss://…, redis+cluster://host1:port,host2:port, postgres://…, sqlite://path, memory://",
  },
  queues: {
    flags: "-q, --queue <names>",
    env: "SHEPPY_QUEUE",
    description: "queues to serve, comma-separated",
    parse: queueNameList,
    default: { value: ["default"], label: "default" },
  },
  queueNames: {
    flags: "-q, --queue <names>",
    env: "SHEPPY_QUEUE",
    description: "queue names, comma-separated: each one in turn",
    parse: queueNameList,
    default: { value: ["default"], label: "default" },
  },
  queueFilter: {
    flags: "-q, --queue <names>",
    env: "SHEPPY_QUEUE",
    description: "queues to look at, comma-separated (default: every queue of the backend)",
    parse: queueNameList,
  },
  queue: {
    flags: "-q, --queue <name>",
    env: "SHEPPY_QUEUE",
    description: "queue name (of a comma-separated list, the first)",
    parse: (raw: string) => queueNameList(raw)[0],
    default: { value: "default" },
  },
  concurrency: {
    flags: "-c, --concurrency <n>",
    env: "SHEPPY_MAX_CONCURRENT_TASKS",
    description: "most tasks running at once",
    parse: positiveInteger,
    default: { value: 10 },
  },
  prefetch: {
    flags: "--prefetch <n>",
    env: "SHEPPY_PREFETCH",
    description: "most tasks claimed per backend call (default: the concurrency)",
    parse: positiveInteger,
  },
  waitForBackend: {
    flags: "--wait-for-backend <seconds>",
    env: "SHEPPY_WAIT_FOR_BACKEND",
    description:
      "seconds to keep trying to reach the backend at start (a worker started before its Redis or PostgreSQL is up); 0 fails at once",
    parse: secondsAtLeastZero,
    default: { value: 0 },
  },
  leaseTimeout: {
    flags: "--lease-timeout <seconds>",
    env: "SHEPPY_LEASE_TIMEOUT",
    description:
      "seconds a running task's claim stays valid without renewal before another worker takes it over (default 20; longer for tasks that block the event loop); kept with each claim, and a takeover waits for the longer of the holder's and the taker's",
    parse: positiveSeconds,
  },
  heartbeatInterval: {
    flags: "--heartbeat-interval <seconds>",
    env: "SHEPPY_HEARTBEAT_INTERVAL",
    description:
      "seconds between renewals of running tasks' claims (default 5; shorter than --lease-timeout)",
    parse: positiveSeconds,
  },
  shutdownTimeout: {
    flags: "--shutdown-timeout <seconds>",
    env: "SHEPPY_SHUTDOWN_TIMEOUT",
    description: "seconds running tasks get to finish after SIGINT/SIGTERM",
    parse: secondsAtLeastZero,
    default: { value: 30 },
  },
  unknownTaskGrace: {
    flags: "--unknown-task-grace <seconds>",
    env: "SHEPPY_UNKNOWN_TASK_GRACE",
    description:
      "seconds a task whose name no loaded module defines is put back for a worker that knows it before it fails with UnknownTaskError (default 600, counted from the first put-back by any worker; 0 fails it at once)",
    parse: secondsAtLeastZero,
  },
  tasks: {
    flags: "-t, --tasks <modules>",
    env: "SHEPPY_TASKS",
    description:
      "modules that define tasks and workflows, comma-separated paths (.ts loads directly, .js too)",
    parse: nonEmptyList("module"),
  },
  config: {
    flags: "--config <file>",
    env: "SHEPPY_CONFIG",
    description:
      'JSON config file: declared crons ("crons") and, when --tasks is not given, task modules ("tasks", paths relative to the file)',
    default: { value: "sheppy.config.json" },
  },
  prestart: {
    flags: "--prestart <module:function>",
    env: "SHEPPY_PRESTART",
    description: "function to run (and await) once before the worker starts",
  },
  oneshot: {
    flags: "--oneshot",
    env: "SHEPPY_ONESHOT",
    description: "exit once every queue is empty",
  },
  maxTasks: {
    flags: "--max-tasks <n>",
    env: "SHEPPY_MAX_TASKS",
    description: "exit after claiming and finishing this many tasks",
    parse: positiveInteger,
  },
  logTasks: {
    flags: "--log-tasks",
    env: "SHEPPY_LOG_TASKS",
    description:
      "log a line when each task starts and when it completes (on unless --no-log-tasks; failures are always logged)",
  },
  disableJobProcessing: {
    flags: "--disable-job-processing",
    env: "SHEPPY_DISABLE_JOB_PROCESSING",
    description: "do not claim or run tasks",
  },
  disableScheduler: {
    flags: "--disable-scheduler",
    env: "SHEPPY_DISABLE_SCHEDULER",
    description: "do not move due scheduled tasks and retries to pending",
  },
  disableCronManager: {
    flags: "--disable-cron-manager",
    env: "SHEPPY_DISABLE_CRON_MANAGER",
    description: "do not create the runs of registered crons",
  },
  port: {
    flags: "--port <n>",
    env: "SHEPPY_DASHBOARD_PORT",
    description: "port the dashboard listens on (0 picks a free one)",
    parse: portNumber,
    default: { value: 8080 },
  },
  host: {
    flags: "--host <address>",
    env: "SHEPPY_DASHBOARD_HOST",
    description: "address the dashboard listens on; only this machine can reach the default",
    default: { value: "127.0.0.1" },
  },
  allowedHosts: {
    flags: "--allowed-hosts <names>",
    env: "SHEPPY_DASHBOARD_ALLOWED_HOSTS",
    description:
      "host names the dashboard answers to, comma-separated (default on loopback: localhost, 127.0.0.1, [::1]; a page on any other name is refused, as a DNS-rebinding page would be); * answers any",
    parse: nonEmptyList("host name"),
  },
  addableTasks: {
    flags: "--addable-tasks <names>",
    env: "SHEPPY_DASHBOARD_ADDABLE_TASKS",
    description:
      "the tasks callers may add, schedule or give a cron by name through the API, comma-separated (default: any task the --tasks modules define)",
    parse: nonEmptyList("task name"),
  },
  allowedOrigins: {
    flags: "--allowed-origins <origins>",
    env: "SHEPPY_DASHBOARD_ALLOWED_ORIGINS",
    description:
      "origins besides the dashboard's own whose pages may change tasks, comma-separated (https://admin.example.com); a page on the dashboard's own host counts as its own whatever the scheme",
    parse: originList,
  },
  metricsPort: {
    flags: "--metrics-port <n>",
    env: "SHEPPY_METRICS_PORT",
    description:
      "serve Prometheus metrics at http://<metrics-host>:<n>/metrics while working, the worker's health at /healthz (503 while failing) and /livez (0 picks a free port)",
    parse: portNumber,
  },
  metricsHost: {
    flags: "--metrics-host <address>",
    env: "SHEPPY_METRICS_HOST",
    description: "address the metrics endpoint listens on; only this machine can reach the default",
    default: { value: "127.0.0.1" },
  },
  readOnly: {
    flags: "--read-only",
    env: "SHEPPY_DASHBOARD_READ_ONLY",
    description: "show tasks without the buttons that change them, and refuse every change",
  },
  logFormat: {
    flags: "--log-format <format>",
    env: "SHEPPY_LOG_FORMAT",
    description: "auto (human-readable on a terminal, JSON lines otherwise), pretty or json",
    parse: oneOf<LogFormat>({ auto: "auto", pretty: "pretty", json: "json" }),
    default: { value: "auto" },
  },
  format: {
    flags: "--format <format>",
    env: "SHEPPY_FORMAT",
    description: "output format: table or json",
    parse: oneOf<OutputFormat>({ table: "table", json: "json" }),
    default: { value: "table" },
  },
  logLevel: {
    flags: "--log-level <level>",
    env: "SHEPPY_LOG_LEVEL",
    description:
      "trace, debug, info, warning (or warn), error, fatal or silent; debug and trace also print stack traces of errors on a terminal (JSON lines always carry them in err.stack), error and above hide the CLI's warnings, silent every log line (a command's failure is still said on stderr)",
    // pino's levels, under its names; pino calls it `warn`, and both spellings are accepted.
    parse: oneOf<LogLevel>({
      trace: "trace",
      debug: "debug",
      info: "info",
      warning: "warn",
      warn: "warn",
      error: "error",
      fatal: "fatal",
      silent: "silent",
    }),
    default: { value: "info", label: "info" },
  },
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;

/** A commander option for a setting, wired to its variable, default and parser. */
export function settingOption(name: SettingName): Option {
  const setting: Setting = SETTINGS[name];
  const option = new Option(setting.flags, setting.description).env(setting.env);
  if (setting.parse) option.argParser(setting.parse);
  // A label keeps help text plain: `default: 10`, not `default: "10"`.
  if (setting.default) {
    option.default(setting.default.value, setting.default.label ?? String(setting.default.value));
  }
  return option;
}

/** Adds settings to a command, in the order given. */
export function addSettings(command: Command, names: readonly SettingName[]): Command {
  for (const name of names) command.addOption(settingOption(name));
  return command;
}

const TRUE = new Set(["1", "true", "yes", "on"]);
const FALSE = new Set(["", "0", "false", "no", "off"]);

/**
 * Commander sets a boolean flag whenever its variable exists, even
 * `SHEPPY_ONESHOT=false`; this reads the variable's value instead.
 */
export function applyBooleanEnv(command: Command): void {
  for (const option of command.options) {
    const key = option.attributeName();
    if (!option.isBoolean() || !option.envVar || command.getOptionValueSource(key) !== "env") {
      continue;
    }
    const raw = (process.env[option.envVar] ?? "").trim().toLowerCase();
    if (!TRUE.has(raw) && !FALSE.has(raw)) {
      throw new CliUsageError(
        `${option.envVar} must be true, 1, yes or on, or false, 0, no, off or empty (got '${process.env[option.envVar]}')`,
      );
    }
    command.setOptionValueWithSource(key, TRUE.has(raw), "env");
  }
}
