/**
 * @module cli/logger
 * The CLI's pino logger on stdout: human-readable (pino-pretty) on a terminal,
 * JSON lines otherwise, so a log collector gets one parseable record per line.
 * Both write synchronously, so nothing is lost when the process exits. A line
 * written while a span is active carries its `traceId` and `spanId`.
 */
import { pino } from "pino";
import { build as pretty } from "pino-pretty";
import { traceMixin } from "../observability/tracing.js";
import type { LogFormat, LogLevel } from "./env.js";

/** Whether logs come out human-readable for this format on this stdout. */
export function isPretty(format: LogFormat): boolean {
  return format === "pretty" || (format === "auto" && process.stdout.isTTY === true);
}

/** A pino logger for `sheppy work`. */
export function createCliLogger(level: LogLevel, format: LogFormat): pino.Logger {
  // Lines written inside a task's span name its trace, to find the trace from the log and back.
  const options = { name: "sheppy", level, mixin: traceMixin };
  if (!isPretty(format)) return pino(options, pino.destination({ dest: 1, sync: true }));
  return pino(
    options,
    pretty({
      destination: 1,
      sync: true,
      colorize: process.stdout.isTTY === true,
      translateTime: "SYS:HH:MM:ss.l",
      ignore: "pid,hostname,name",
      // One line per record: "one log line per task", with its fields as compact JSON.
      singleLine: true,
      // Only `err` (an Error, at debug) is printed as a block; our `error` is a one-line summary.
      errorLikeObjectKeys: ["err"],
    }),
  );
}
