/**
 * @module task/stored-error
 * Errors stored as data: a failed task keeps its error's type, message, stack,
 * `cause` chain, own JSON-safe properties and (for validation errors) the
 * schema issues. {@link TaskError.toError} rebuilds an `Error` on a best-effort
 * basis: the original class when this process knows it, else `TaskFailedError`.
 *
 * Anything may be thrown, and reading it runs its code. {@link errorToData}
 * returns plain JSON for every value whatever that code does, and bounds its
 * size: {@link MAX_ERROR_TEXT} characters of message and of stack, at most
 * 8,000 characters of JSON of properties and of issues (task/error-details),
 * and {@link MAX_CAUSE_DEPTH} causes: under 300,000 characters in all, however
 * much text the error carried.
 */
import * as errors from "../errors.js";
import type { JsonValue } from "../json.js";
import { capText } from "../util/cap-text.js";
import { describeValue, isError, read, readOr } from "./describe-value.js";
import {
  errorMessageOf,
  errorTypeOf,
  type IssueData,
  isGatheredError,
  issuesOf,
  propsOf,
  setOwn,
} from "./error-details.js";

export type { IssueData } from "./error-details.js";

/** The JSON shape of a stored error. */
export interface ErrorData {
  type: string;
  message: string;
  stack: string | null;
  cause: ErrorData | null;
  issues?: IssueData[];
  /** Own enumerable properties of the error (e.g. `code`, `statusCode`), made JSON-safe. */
  props?: Record<string, JsonValue>;
}

type ErrorClass = new (...args: never[]) => Error;

const knownClasses = new Map<string, ErrorClass>();
for (const cls of [
  Error,
  AggregateError,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
]) {
  knownClasses.set(cls.name, cls);
}
for (const value of Object.values(errors)) {
  if (typeof value === "function" && value.prototype instanceof Error) {
    knownClasses.set(value.name, value as unknown as ErrorClass);
  }
}

/**
 * Makes an application error class known to this process, so `toError()` on a
 * stored error of that type rebuilds an instance of it.
 * @example registerErrorClass(PaymentDeclinedError)
 */
export function registerErrorClass(cls: ErrorClass): void {
  knownClasses.set(cls.name, cls);
}

/** Causes recorded below the thrown error; a longer chain (or a cycle) is cut there. */
const MAX_CAUSE_DEPTH = 8;
/** Characters kept of a message, and of a stack: enough for any real one, not for megabytes. */
export const MAX_ERROR_TEXT = 8_000;

const UNREADABLE = "(a thrown value that could not be read)";

/** Converts anything thrown into stored error data: plain JSON, never an exception. */
export function errorToData(thrown: unknown): ErrorData {
  try {
    return toData(thrown, 0);
  } catch {
    // Every read in toData is guarded; this is the last line should one slip through.
    return { type: "NonError", message: UNREADABLE, stack: null, cause: null };
  }
}

/**
 * The stored data each error `toError()` rebuilt came from. An error thrown
 * again as it was rebuilt (a sandboxed task's, crossing back from its
 * thread; a `toError()` rethrown) is stored as that data: read anew, its
 * rebuilt parts would be stored as their descriptions instead — an
 * `AggregateError`'s gathered errors as empty objects, say.
 */
const rebuiltFrom = new WeakMap<Error, ErrorData>();

/**
 * A stack within {@link MAX_ERROR_TEXT}: its frames kept, and the header
 * (`Type: message`, which repeats the message stored beside it) cut first —
 * a message of pages would otherwise fill the stack and leave no frame.
 */
function capStack(stack: string): string {
  if (stack.length <= MAX_ERROR_TEXT) return stack;
  const firstFrame = stack.search(/\n\s+at /);
  if (firstFrame < 0) return capText(stack, MAX_ERROR_TEXT);
  const frames = stack.slice(firstFrame);
  const room = MAX_ERROR_TEXT - frames.length;
  // Frames of their own over the bound (a deep recursion): cut from the end, as any text.
  if (room < 200) return capText(stack, MAX_ERROR_TEXT);
  return capText(stack.slice(0, firstFrame), room) + frames;
}

function toData(thrown: unknown, depth: number): ErrorData {
  const stored = isError(thrown) ? rebuiltFrom.get(thrown) : undefined;
  // Unless it was changed since: then it is read as any error is.
  if (
    stored !== undefined &&
    errorTypeOf(thrown as Error) === stored.type &&
    errorMessageOf(thrown as Error, MAX_ERROR_TEXT) === stored.message
  ) {
    return stored;
  }
  if (!isError(thrown)) {
    return {
      type: "NonError",
      message: describeValue(thrown, MAX_ERROR_TEXT),
      stack: null,
      cause: null,
    };
  }
  // An error rebuilt from stored data (a sandbox thread's, or `toError()`) is stored as it was.
  const rebuilt = readOr(() => thrown instanceof errors.TaskFailedError, false);
  const stack = rebuilt
    ? readOr(() => (thrown as errors.TaskFailedError).originalStack, null)
    : readOr(() => thrown.stack, undefined);
  const data: ErrorData = {
    type: errorTypeOf(thrown),
    message: errorMessageOf(thrown, MAX_ERROR_TEXT),
    stack: typeof stack === "string" ? capStack(stack) : null,
    cause: depth < MAX_CAUSE_DEPTH ? causeOf(thrown, depth) : null,
  };
  const issues = issuesOf(thrown);
  if (issues) data.issues = issues;
  const props = propsOf(thrown, rebuilt ? REBUILT_FROM : undefined);
  if (props) data.props = props;
  return data;
}

/** The fields of a `TaskFailedError` that carry the stored error it was rebuilt from: not properties of that error. */
const REBUILT_FROM: ReadonlySet<string> = new Set(["originalType", "originalStack"]);

function causeOf(error: Error, depth: number): ErrorData | null {
  const cause = read(() => error.cause);
  if (!cause.ok) {
    return {
      type: "NonError",
      message: "(a cause that could not be read)",
      stack: null,
      cause: null,
    };
  }
  return cause.value === undefined ? null : toData(cause.value, depth + 1);
}

/** Fields `toError()` sets itself; stored data written by hand may repeat them among the props. */
const REBUILT_FIELDS: ReadonlySet<string> = new Set([
  "message",
  "name",
  "stack",
  "cause",
  "issues",
]);

/** One value an aggregate gathered, as `toError()` gives it back: an error for a stored type and message, else the stored value. */
function rebuildGathered(value: JsonValue): unknown {
  if (!isGatheredError(value)) return value;
  return new TaskError({
    type: value.type,
    message: value.message,
    stack: null,
    cause: null,
  }).toError();
}

/** A stored error, as read back from a task record. */
export class TaskError {
  readonly type: string;
  readonly message: string;
  readonly stack: string | null;
  readonly cause: TaskError | null;
  readonly issues: readonly IssueData[] | undefined;
  readonly props: Readonly<Record<string, JsonValue>> | undefined;

  constructor(readonly data: ErrorData) {
    this.type = data.type;
    this.message = data.message;
    this.stack = data.stack;
    this.cause = data.cause ? new TaskError(data.cause) : null;
    this.issues = data.issues;
    this.props = data.props;
    Object.freeze(this);
  }

  /** "Type: message", e.g. `TypeError: boom`. */
  toString(): string {
    return `${this.type}: ${this.message}`;
  }

  /** Rebuilds an `Error`: an instance of the original class if it is known here, else `TaskFailedError`. */
  toError(): Error {
    const cls = knownClasses.get(this.type);
    let error: Error;
    if (cls) {
      // Constructors may demand arguments we no longer have; build the instance without running one.
      error = Object.create(cls.prototype) as Error;
      Object.defineProperty(error, "message", {
        value: this.message,
        writable: true,
        configurable: true,
      });
      Object.defineProperty(error, "name", {
        value: this.type,
        writable: true,
        configurable: true,
      });
    } else {
      error = new errors.TaskFailedError(this.message, this.type, this.stack);
    }
    Object.defineProperty(error, "stack", {
      value: this.stack ?? `${this.type}: ${this.message}`,
      writable: true,
      configurable: true,
    });
    if (this.cause)
      Object.defineProperty(error, "cause", {
        value: this.cause.toError(),
        writable: true,
        configurable: true,
      });
    if (this.issues)
      Object.defineProperty(error, "issues", {
        value: this.issues,
        writable: true,
        configurable: true,
      });
    if (this.props) {
      for (const [key, value] of Object.entries(this.props)) {
        // Defined, not assigned: a prototype setter or getter of the same name (or
        // `__proto__`) must not run or throw; the fields set above stay as they are.
        if (!REBUILT_FIELDS.has(key)) setOwn(error, key, value);
      }
      // An aggregate's gathered errors come back as errors (each as its type and message).
      const gathered = this.props.errors;
      if (error instanceof AggregateError && Array.isArray(gathered))
        setOwn(error, "errors", gathered.map(rebuildGathered));
    }
    rebuiltFrom.set(error, this.data);
    return error;
  }

  toJSON(): ErrorData {
    return this.data;
  }
}
