/**
 * @module cli/logger
 * The CLI's pino logger on stdout: human-readable (pino-pretty) on a terminal,
 * JSON lines otherwise, so a log collector gets one parseable record per line.
 * Both write synchronously, so nothing is lost when the process exits. A line
 * written while a span is active carries its `traceId` and `spanId`.
 */
import { createRequire } from "node:module";
import { pino } from "pino";
import type { build as PrettyBuild } from "pino-pretty";
import { errorSerializer } from "../observability/error-serializer.js";
import { traceMixin } from "../observability/tracing.js";
import { type LogFormat, type LogLevel, wantsStacks } from "./env.js";

/** Where log lines go: stdout (1) for `sheppy work`, whose output they are; stderr (2) elsewhere. */
export type LogDestination = 1 | 2;

const isTerminal = (destination: LogDestination) =>
  (destination === 1 ? process.stdout : process.stderr).isTTY === true;

/** Whether logs come out human-readable for this format on this destination. */
export function isPretty(format: LogFormat, destination: LogDestination = 1): boolean {
  return format === "pretty" || (format === "auto" && isTerminal(destination));
}

/**
 * A pino logger for `sheppy work` (on stdout), or for the backend's own lines
 * in other commands (on stderr, so they never mix with a table or JSON output).
 */
export function createCliLogger(
  level: LogLevel,
  format: LogFormat,
  destination: LogDestination = 1,
): pino.Logger {
  // Lines written inside a task's span name its trace, to find the trace from the log and back.
  const debug = wantsStacks(level);
  const base = { name: "sheppy", level, mixin: traceMixin };
  if (!isPretty(format, destination)) {
    // JSON lines go to a log store, where a failed task's stack is what someone reads first: in
    // `err.stack` at every level, a field of the line that costs nothing to skip.
    return pino(
      { ...base, serializers: { err: errorSerializer(true) } },
      pino.destination({ dest: destination, sync: true }),
    );
  }
  // On a terminal an error is one line, its stack only at debug (as `--log-level` says).
  const serializers = { err: errorSerializer(debug) };
  const options = { ...base, serializers };
  // pino-pretty prints the error key (`err`) as a block of its own under the line; below debug
  // it is one summary, kept on the line as `error` (a line that has one already keeps that).
  const formatters = debug
    ? {}
    : { log: (record: Record<string, unknown>) => errorOnTheLine(record, serializers.err) };
  // Loaded only for a terminal's lines: a command whose output is piped starts without it.
  const pretty = createRequire(import.meta.url)("pino-pretty").build as typeof PrettyBuild;
  return pino(
    { ...options, formatters },
    pretty({
      destination,
      sync: true,
      colorize: isTerminal(destination),
      translateTime: "SYS:HH:MM:ss.l",
      ignore: "pid,hostname,name",
      // One line per record: "one log line per task", with its fields as compact JSON.
      singleLine: true,
      // At debug `err` is printed as a block, with its stacks.
      errorLikeObjectKeys: ["err"],
    }),
  );
}

/** A record's `err` as its `error` (see above), written as `serialize` writes it (pino's serializers run on keys it knows later). */
function errorOnTheLine(
  record: Record<string, unknown>,
  serialize: (value: unknown) => unknown,
): Record<string, unknown> {
  if (!("err" in record)) return record;
  const { err, ...rest } = record;
  return "error" in rest ? rest : { ...rest, error: serialize(err) };
}
