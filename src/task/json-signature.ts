/**
 * @module task/json-signature
 * Compile-time refusal of task and workflow functions whose arguments or
 * result can never be stored. Arguments are stored as JSON when a task is
 * created and handed to the function as JSON reads back; a result is stored
 * the same way. A parameter typed `bigint`, `Date`, `Map`, a function… would
 * compile and then fail every time at run time (refused when the task is
 * created, or the function receiving text where it expects a `Date`), so
 * `task()` and `workflow()` refuse such a function where it is defined, with
 * a message naming the rule. What TypeScript cannot tell apart stays allowed:
 * `unknown` and `any`, a union that may hold JSON, a class instance whose type
 * has only data members (the run-time check refuses the instance itself).
 */
import type { JsonValue } from "../json.js";
import type { StoredAs } from "./stored-as.js";
import type { Task } from "./task-record.js";

/**
 * `T` where every value in it can be stored as JSON and read back as the same
 * type, `never` in the places where one cannot: `bigint`, `symbol`, `Date`,
 * functions (methods included), `Map`, `Set`. `undefined` passes: an omitted
 * optional argument or member is simply not stored. `Allowed` passes too.
 */
export type JsonStorable<T, Allowed = never> = 0 extends 1 & T
  ? T
  : unknown extends T
    ? T
    : T extends string | number | boolean | null | undefined | JsonValue | Allowed
      ? T
      : T extends
            | bigint
            | symbol
            | Date
            | ((...args: never[]) => unknown)
            | ReadonlyMap<unknown, unknown>
            | ReadonlySet<unknown>
        ? never
        : T extends object
          ? { [K in keyof T]: K extends symbol ? never : JsonStorable<T[K], Allowed> }
          : never;

/** Whether every value of `T` can be stored (see {@link JsonStorable}). */
type Storable<T, Allowed = never> = [T] extends [JsonStorable<T, Allowed>] ? true : false;

/** A function that returns nothing: its result is stored as `null`. */
// biome-ignore lint/suspicious/noConfusingVoidType: `() => {}` returns void, not undefined
type Nothing = undefined | void;

/** What a result may be besides JSON: nothing, or the tasks it chains. */
type ResultBesidesJson = Nothing | Task<unknown> | readonly Task<unknown>[];

/** Whether a function returning `R` (awaited) returns something that can be stored. */
type StorableResult<R> = 0 extends 1 & R
  ? true
  : [R] extends [JsonValue | Nothing]
    ? true
    : [R] extends [ResultBesidesJson]
      ? true
      : // A task inside another value is stored as its record (its toJSON).
        Storable<StoredAs<Exclude<R, ResultBesidesJson>>, Task<unknown>>;

/** What `task()` shows for a function whose parameters cannot be stored. */
export interface TaskArgumentsNotJson {
  readonly "the task's parameters must be JSON values (no bigint, symbol, Date, Map, Set, function or class with methods): arguments are stored as JSON and read back": never;
}

/** What `task()` shows for a function whose result cannot be stored. */
export interface TaskResultNotJson {
  readonly "the task's result must be a JSON value, a value with toJSON (a Date), nothing, or the tasks it chains (no bigint, symbol, Map, Set or function)": never;
}

/** What `workflow()` shows for a generator whose parameters cannot be stored. */
export interface WorkflowArgumentsNotJson {
  readonly "the workflow's parameters must be JSON values (no bigint, symbol, Date, Map, Set, function or class with methods): arguments are stored as JSON and read back": never;
}

/** `unknown` (no constraint) when the arguments `A` can be stored, else what the compiler shows. */
export type CheckedArguments<A> = Storable<A> extends true ? unknown : TaskArgumentsNotJson;

/** `unknown` when a task's awaited result `R` can be stored, else what the compiler shows. */
export type CheckedResult<R> = StorableResult<R> extends true ? unknown : TaskResultNotJson;

/** What `workflow()` shows for a generator whose result cannot be stored. */
export interface WorkflowResultNotJson {
  readonly "the workflow's result must be a JSON value, a value with toJSON (a Date, a task) or nothing (no bigint, symbol, Map, Set or function)": never;
}

/** `unknown` when a workflow body's result `R` can be stored, else what the compiler shows. */
export type CheckedWorkflowResult<R> = 0 extends 1 & R
  ? unknown
  : [R] extends [JsonValue | Nothing]
    ? unknown
    : // A task (a finished step, say) is stored as its record (its toJSON).
      Storable<StoredAs<Exclude<R, Nothing>>, Task<unknown>> extends true
      ? unknown
      : WorkflowResultNotJson;

/** `unknown` when a workflow's arguments `A` can be stored, else what the compiler shows. */
export type CheckedWorkflowArguments<A> =
  Storable<A> extends true ? unknown : WorkflowArgumentsNotJson;
