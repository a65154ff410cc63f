/**
 * @module observability/logger
 * The logger shape Sheppy writes to: pino's (any pino logger fits). By default
 * a pino logger at level `warn`, so a library user sees problems but not one
 * line per task; the CLI configures its own. Both add the active span's
 * `traceId`/`spanId` to each line (`traceMixin`); give your own pino logger
 * `mixin: traceMixin` for the same.
 */
import { pino } from "pino";
import { errorSerializer } from "./error-serializer.js";
import { traceMixin } from "./tracing.js";

type LogFn = (objOrMsg: object | string, msg?: string) => void;

/** The subset of pino's logger Sheppy uses. */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

let fallback: Logger | undefined;

/** The shared default logger (pino, level `warn`), created on first use. */
export function defaultLogger(): Logger {
  // Stacks kept: a library user's only trace of where a warning came from.
  fallback ??= pino({
    name: "sheppy",
    level: "warn",
    mixin: traceMixin,
    serializers: { err: errorSerializer(true) },
  });
  return fallback;
}

/**
 * Makes `logger` the one every part built from now on without a logger of
 * its own writes to. The CLI calls this with its own logger, so a
 * backend's lines (made from a URL, where no logger can be passed) follow
 * `--log-level` and `--log-format` like the rest of the command's.
 */
export function setDefaultLogger(logger: Logger): void {
  fallback = logger;
}
