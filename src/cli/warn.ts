/**
 * @module cli/warn
 * The CLI's warnings: one line each on stderr (never stdout, so a table or
 * JSON output stays as it is), held back when `--log-level error` asks for
 * errors only.
 */
import type { LogLevel } from "./env.js";

let shown = true;

/** Shows warnings at `level` and below it, hides them at `error`. */
export function showWarningsAt(level: LogLevel): void {
  shown = level !== "error";
}

export function warn(message: string): void {
  if (shown) console.error(`warning: ${message}`);
}
