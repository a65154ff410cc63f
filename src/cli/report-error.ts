/**
 * @module cli/report-error
 * Turns an error that ended a command into one line on stderr and an exit
 * code. The stack (with its causes) is printed only at `--log-level debug`.
 */
import { CommanderError } from "commander";
import {
  BackendUrlError,
  CliUsageError,
  InvalidOptionError,
  PayloadTooLargeError,
  ValidationError,
} from "../errors.js";

/** Exit codes: 0 success, 1 the operation failed, 2 the command line was wrong. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

const USAGE_ERRORS = [
  CliUsageError,
  InvalidOptionError,
  BackendUrlError,
  ValidationError,
  PayloadTooLargeError,
];

function stackWithCauses(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    lines.push(
      depth === 0 ? "" : "caused by:",
      current instanceof Error ? (current.stack ?? String(current)) : String(current),
    );
    current = current instanceof Error ? current.cause : undefined;
  }
  return lines.filter(Boolean).join("\n");
}

/**
 * `line` without the library call it names first (`queue.retryAll(): since
 * … is in the future`): the command ran that call for the user, who typed
 * flags, not it; what follows names the option as the flag does.
 */
function withoutCallName(error: unknown, line: string): string {
  return error instanceof InvalidOptionError ? line.replace(/^queue\.\w+\(\): /, "") : line;
}

/** Prints the error (commander has already printed its own) and returns the exit code. */
export function reportError(error: unknown, debug: boolean): number {
  if (error instanceof CommanderError) {
    // Help and version "errors" are successes; the rest are usage errors commander already printed.
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`error: ${withoutCallName(error, message.split("\n")[0]!)}\n`);
  if (debug) process.stderr.write(`${stackWithCauses(error)}\n`);
  return USAGE_ERRORS.some((cls) => error instanceof cls) ? EXIT.usage : EXIT.failure;
}
