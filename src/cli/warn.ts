/**
 * @module cli/warn
 * The CLI's warnings: one line each on stderr (never stdout, so a table or
 * JSON output stays as it is), held back when `--log-level error` (or
 * `fatal`, `silent`) asks for less.
 */
import type { LogLevel } from "./env.js";

let shown = true;

/** Shows warnings at `level` and below it, hides them at `error` and above. */
export function showWarningsAt(level: LogLevel): void {
  shown = level !== "error" && level !== "fatal" && level !== "silent";
}

export function warn(message: string): void {
  if (shown) console.error(`warning: ${message}`);
}
