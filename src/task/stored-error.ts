/**
 * @module task/stored-error
 * Errors stored as data: a failed task keeps its error's type, message, stack,
 * `cause` chain, own JSON-safe properties and (for validation errors) the
 * schema issues. {@link TaskError.toError} rebuilds an `Error` on a best-effort
 * basis: the original class when this process knows it, else `TaskFailedError`.
 */
import * as errors from "../errors.js";
import { type JsonValue, toJson } from "../json.js";

/** A validation issue in stored form. */
export interface IssueData {
  message: string;
  path: (string | number)[];
}

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

const MAX_CAUSE_DEPTH = 8;

function issuesOf(error: object): IssueData[] | undefined {
  const issues = (error as { issues?: unknown }).issues;
  if (!Array.isArray(issues)) return undefined;
  return issues.map((issue: { message?: unknown; path?: unknown }) => ({
    message: String(issue?.message ?? ""),
    path: Array.isArray(issue?.path)
      ? issue.path.map((segment: unknown) => {
          const key =
            typeof segment === "object" && segment !== null
              ? (segment as { key?: unknown }).key
              : segment;
          return typeof key === "number" ? key : String(key);
        })
      : [],
  }));
}

function propsOf(error: Error): Record<string, JsonValue> | undefined {
  let props: Record<string, JsonValue> | undefined;
  for (const key of Object.keys(error)) {
    if (
      key === "message" ||
      key === "stack" ||
      key === "cause" ||
      key === "issues" ||
      key === "name"
    )
      continue;
    const value = (error as unknown as Record<string, unknown>)[key];
    let stored: JsonValue;
    try {
      stored = toJson(value, key);
    } catch {
      // A property JSON cannot carry is kept as its description, so the record stays JSON.
      stored = String(value);
    }
    props ??= {};
    props[key] = stored;
  }
  return props;
}

/** Converts anything thrown into stored error data. */
export function errorToData(thrown: unknown, depth = 0): ErrorData {
  if (!(thrown instanceof Error)) {
    return { type: "NonError", message: safeString(thrown), stack: null, cause: null };
  }
  // An error rebuilt from stored data keeps the type it was stored with.
  const type =
    thrown instanceof errors.TaskFailedError
      ? thrown.originalType
      : thrown.name && thrown.name !== "Error"
        ? thrown.name
        : thrown.constructor?.name || "Error";
  const data: ErrorData = {
    type,
    message: thrown.message,
    stack: thrown.stack ?? null,
    cause:
      thrown.cause !== undefined && depth < MAX_CAUSE_DEPTH
        ? errorToData(thrown.cause, depth + 1)
        : null,
  };
  const issues = issuesOf(thrown);
  if (issues) data.issues = issues;
  const props = propsOf(thrown);
  if (props) data.props = props;
  return data;
}

function safeString(value: unknown): string {
  try {
    return typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
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
    if (this.props) Object.assign(error, this.props);
    return error;
  }

  toJSON(): ErrorData {
    return this.data;
  }
}
