/**
 * @module task/stored-as
 * The type a function's return value has once stored and read back.
 */
import type { JsonValue } from "../json.js";
import type { Task } from "./task-record.js";

/**
 * What a value of type `T` reads back as once stored: what `JSON.stringify`
 * then `JSON.parse` make of it. A `Date` (anything with `toJSON`) becomes
 * what its `toJSON` returns — a `Date` result comes back as ISO text — and
 * arrays and objects read back member by member. A `Task` (a task that
 * chains another) reads back as a task. A task's or a workflow's result
 * without a result schema is typed this way; with one, as the schema's output.
 * JSON reads back as itself: answered first, so a result typed `JsonValue`
 * (recursive) is not walked member by member.
 */
export type StoredAs<T> = 0 extends 1 & T
  ? T
  : T extends JsonValue
    ? T
    : T extends Task<unknown>
      ? T
      : T extends { toJSON(...args: never[]): infer J }
        ? StoredAs<J>
        : T extends (...args: never[]) => unknown
          ? T
          : T extends object
            ? { [K in keyof T]: StoredAs<T[K]> }
            : T;
