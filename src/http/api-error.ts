/**
 * @module http/api-error
 * How an error becomes an HTTP response: Sheppy's error classes map to the
 * status that says whose fault it is — bad input 400, nothing there 404, a
 * state that does not allow it 409, a backend out of reach 503 (which names
 * the server only when errors are exposed) — and anything else is a 500 whose body
 * never carries a stack trace or a message (which could hold a secret)
 * unless the handler was told to expose them.
 */
import {
  BackendUnavailableError,
  CronExpressionError,
  CronNotFoundError,
  InvalidOptionError,
  InvalidTaskError,
  PayloadTooLargeError,
  SerializationError,
  TaskIdConflictError,
  TaskNotFoundError,
  TaskStateRefusal,
  UnknownTaskError,
  ValidationError,
  WorkflowNotFoundError,
} from "../errors.js";

/** An error the handler answers with `status`, a JSON body `{ error, …details }` and `headers` (a 405's `Allow`). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "HttpError";
  }
}

const BAD_INPUT = [
  InvalidOptionError,
  InvalidTaskError,
  SerializationError,
  CronExpressionError,
  ValidationError,
  // A task name the body gives and no definition has: a bad field, not a missing resource.
  UnknownTaskError,
];
const NOT_FOUND = [TaskNotFoundError, WorkflowNotFoundError, CronNotFoundError];

/**
 * A library error's message without the call it names first
 * (`queue.getWorkflow(): …`): a client of the API called a route, not that
 * method, and the route is what it knows.
 */
function withoutCallName(message: string): string {
  return message.replace(/^queue\.[A-Za-z]+\(\): /, "");
}

/** A 503's answer while errors are not exposed; the handler's logger gets the backend's own message. */
export const BACKEND_OUT_OF_REACH =
  "the backend did not answer: ask again later (the server's log says why)";

/** The status and JSON body for `error`; `expose` adds a 500's message and stack and a 503's cause. */
export function errorResponseBody(
  error: unknown,
  expose: boolean,
): { status: number; body: Record<string, unknown> } {
  if (error instanceof HttpError) {
    return { status: error.status, body: { error: error.message, ...error.details } };
  }
  if (error instanceof ValidationError) {
    return { status: 400, body: { error: error.message, issues: error.issues } };
  }
  if (error instanceof PayloadTooLargeError) return { status: 413, body: { error: error.message } };
  // The backend cannot be reached: the caller may try again. Its message names the server
  // (address, user, database), which a caller of an application's API has no business knowing.
  if (error instanceof BackendUnavailableError) {
    return { status: 503, body: { error: expose ? error.message : BACKEND_OUT_OF_REACH } };
  }
  const known = (classes: readonly (abstract new (...args: never[]) => Error)[]) =>
    classes.some((cls) => error instanceof cls);
  if (known(BAD_INPUT))
    return { status: 400, body: { error: withoutCallName((error as Error).message) } };
  if (known(NOT_FOUND)) return { status: 404, body: { error: (error as Error).message } };
  // Over HTTP an id's holder is not named: a caller may not read what other tasks exist.
  if (error instanceof TaskIdConflictError) {
    return {
      status: 409,
      body: {
        error: `id '${error.id}' is held by a task of another name, so this is not a resend of it; choose another id`,
      },
    };
  }
  // A client answers each refusal its own way by its reason, not by parsing the message.
  if (error instanceof TaskStateRefusal) {
    return { status: 409, body: { error: withoutCallName(error.message), reason: error.reason } };
  }
  if (!expose) return { status: 500, body: { error: "internal error" } };
  const failure = error instanceof Error ? error : new Error(String(error));
  return { status: 500, body: { error: failure.message, stack: failure.stack } };
}
