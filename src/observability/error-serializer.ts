/**
 * @module observability/error-serializer
 * How Sheppy's own loggers write an `err` field. pino's default appends each
 * cause's message to the error's, but Sheppy's errors already say what their
 * cause said ("claim: waiting for tasks failed: Connection is closed."), so
 * a line would repeat it. Here an error is its class, its own message, its
 * `code`, and its cause only where the message does not already say it; the
 * stacks (the error's and its causes') only when asked for, as
 * `--log-level debug` does — at other levels an error is one line.
 */

/** The logged form of an error (see the module header). */
export interface LoggedError {
  readonly type: string;
  readonly message: string;
  readonly code?: unknown;
  readonly stack?: string | undefined;
  readonly cause?: LoggedError | unknown;
}

function typeOf(error: Error): string {
  const named = error.constructor?.name;
  return typeof named === "string" && named !== "" ? named : error.name;
}

function logged(error: Error, withStacks: boolean, depth: number): LoggedError {
  const out: {
    type: string;
    message: string;
    code?: unknown;
    stack?: string | undefined;
    cause?: unknown;
  } = { type: typeOf(error), message: error.message };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (withStacks) out.stack = error.stack;
  const { cause } = error;
  // A chain of causes is followed a few links deep: a cycle (a cause that is its own) must end.
  if (cause instanceof Error && depth < 5) {
    if (withStacks || !error.message.includes(cause.message))
      out.cause = logged(cause, withStacks, depth + 1);
  } else if (cause !== undefined && cause !== null && !(cause instanceof Error)) {
    out.cause = cause;
  }
  return out;
}

/** A pino serializer for `err`: errors as above, anything else as it is. */
export function errorSerializer(withStacks: boolean): (value: unknown) => unknown {
  return (value) => (value instanceof Error ? logged(value, withStacks, 0) : value);
}
