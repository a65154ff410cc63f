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
 * arrays and objects read back member by member. Values of type `Kept` read
 * back as themselves: by default `Task`, as a task that chains another reads
 * back as a task. A task's or a workflow's result without a result schema is
 * typed this way (see {@link ResultAs}); with one, as the schema's output.
 * JSON reads back as itself: answered first, so a result typed `JsonValue`
 * (recursive) is not walked member by member.
 */
export type StoredAs<T, Kept = Task<unknown>> = 0 extends 1 & T
  ? T
  : T extends JsonValue
    ? T
    : T extends Kept
      ? T
      : T extends { toJSON(...args: never[]): infer J }
        ? StoredAs<J, Kept>
        : T extends (...args: never[]) => unknown
          ? T
          : T extends object
            ? { [K in keyof T]: StoredAs<T[K], Kept> }
            : T;

/** What a function gives when it returns nothing. */
// biome-ignore lint/suspicious/noConfusingVoidType: `() => {}` returns void, not undefined
type Nothing = undefined | void;

/**
 * What a task's (`Kept`: the tasks it chains, read back as tasks) or a
 * workflow's (`Kept` never: a finished step it returns reads back as the
 * step's record, its JSON) result reads back as: {@link StoredAs}, with
 * nothing — `undefined`, or no value at all — stored and read back as
 * `null`, as JSON has no `undefined`.
 */
export type ResultAs<T, Kept = Task<unknown>> =
  | StoredAs<Exclude<T, Nothing>, Kept>
  | (undefined extends T ? null : never);
