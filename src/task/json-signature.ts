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
 * `unknown` and `any`, a type parameter of a generic helper (neither inside
 * the helper nor where it is used: constrain it, `T extends JsonValue`, for
 * the compiler to refuse `Date` there), a class instance whose type has only data members
 * (the run-time check refuses the instance itself). A union with a member
 * that cannot be stored (`string | Date`) is refused.
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { JsonCompatible, JsonValue } from "../json.js";
import type { StoredAs } from "./stored-as.js";
import type { Task } from "./task-record.js";
import type { Workflow } from "./workflow-record.js";

/**
 * `T` where every value in it can be stored as JSON and read back as the same
 * type, `never` in the places where one cannot: `bigint`, `symbol`, `Date`,
 * functions (methods included), `Map`, `Set`, a list whose elements may be
 * `undefined`. `undefined` passes elsewhere: an omitted optional argument or
 * member is simply not stored. `Allowed` passes too.
 * Not `JsonCompatible` (`../json.ts`): that one types a value the caller
 * passes (`progress()`), where `undefined` is refused and `unknown` cannot
 * occur; a signature may hold both.
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
        : T extends readonly unknown[]
          ? // A list (not a tuple) that may hold `undefined`: JSON has no such element.
            number extends T["length"]
            ? undefined extends T[number]
              ? unknown extends T[number]
                ? T
                : never
              : { [K in keyof T]: JsonStorable<T[K], Allowed> }
            : { [K in keyof T]: JsonStorable<T[K], Allowed> }
          : T extends object
            ? { [K in keyof T]: K extends symbol ? never : JsonStorable<T[K], Allowed> }
            : never;

/**
 * `true` when every value of `T` can be stored (see {@link JsonStorable}),
 * `never` when one cannot. The checks below test it against `never` with
 * the refusal on the true side: while `T` is still a type parameter (a
 * generic helper that wraps `task()`), the compiler cannot decide the check
 * and accepts the function — and the helper's factory, whatever type the
 * parameter is given where the helper is used; a constraint on the
 * parameter (`T extends JsonValue`) is what the compiler checks there.
 */
type StorableMark<T, Allowed = never> = [T] extends [JsonStorable<T, Allowed>] ? true : never;

/** A function that returns nothing: its result is stored as `null`. */
// biome-ignore lint/suspicious/noConfusingVoidType: `() => {}` returns void, not undefined
type Nothing = undefined | void;

/** What a result may be besides JSON: nothing, or the tasks it chains (a task, or a list of tasks only). */
type ResultBesidesJson = Nothing | Task<unknown> | readonly Task<unknown>[];

/**
 * `true` when a function returning `R` (awaited) returns something that can
 * be stored, `never` when not. A task inside another value (a list that also
 * holds other values, an object) is refused: it would not be chained, only
 * stored as its record.
 */
// Each test wraps R in a list: `any` (and a type parameter, while undecided) passes the first.
// A workflow is refused first: its record has toJSON, so it would be stored, never started.
type ResultMark<R> = [R] extends [JsonValue | Nothing]
  ? true
  : [Extract<R, Workflow>] extends [never]
    ? [R] extends [ResultBesidesJson]
      ? true
      : StorableMark<StoredAs<Exclude<R, ResultBesidesJson>>>
    : never;

/** What `task()` shows (in the error message) for a function whose parameters cannot be stored. */
export type TaskArgumentsNotJson =
  "the task's parameters must be JSON values (no bigint, symbol, Date, Map, Set, function, class with methods or undefined in a list): arguments are stored as JSON and read back";

/** What `task()` shows (in the error message) for a function whose result cannot be stored. */
export type TaskResultNotJson =
  "the task's result must be a JSON value, a value with toJSON (a Date), nothing, or the tasks it chains: a task, or a list of tasks only (no bigint, symbol, Map, Set, function, undefined in a list, a task inside another value, or a workflow: it would be stored, not started)";

/** What `workflow()` shows (in the error message) for a generator whose parameters cannot be stored. */
export type WorkflowArgumentsNotJson =
  "the workflow's parameters must be JSON values (no bigint, symbol, Date, Map, Set, function or class with methods): arguments are stored as JSON and read back";

/** What `workflow()` shows (in the error message) for a generator whose result cannot be stored. */
export type WorkflowResultNotJson =
  "the workflow's result must be a JSON value, a value with toJSON (a Date, a task) or nothing (no bigint, symbol, Map, Set or function)";

/** `unknown` (no constraint) when the arguments `A` can be stored, else what the compiler shows. */
export type CheckedArguments<A> = [StorableMark<A>] extends [never]
  ? TaskArgumentsNotJson
  : unknown;

/** `unknown` when a task's awaited result `R` can be stored, else what the compiler shows. */
export type CheckedResult<R> = [ResultMark<R>] extends [never] ? TaskResultNotJson : unknown;

/** `true` when a workflow body's result `R` can be stored (a finished step is stored as its record), `never` when not. */
type WorkflowResultMark<R> = [R] extends [JsonValue | Nothing]
  ? true
  : StorableMark<StoredAs<Exclude<R, Nothing>>, Task<unknown>>;

/** `unknown` when a workflow body's result `R` can be stored, else what the compiler shows. */
export type CheckedWorkflowResult<R> = [WorkflowResultMark<R>] extends [never]
  ? WorkflowResultNotJson
  : unknown;

/** `unknown` when a workflow's arguments `A` can be stored, else what the compiler shows. */
export type CheckedWorkflowArguments<A> = [StorableMark<A>] extends [never]
  ? WorkflowArgumentsNotJson
  : unknown;

/** What `sideEffect()` shows (in the error message) for a value that cannot be recorded. */
export type SideEffectNotJson =
  "a sideEffect's value must be JSON (no undefined, Date, bigint, symbol, Map, Set, function or promise): it is recorded as JSON and replayed; for a time return getTime() or toISOString(), or use now()";

/**
 * `unknown` when a side effect's value `R` is JSON, else what the compiler
 * shows. `any` and `unknown` pass, as a task's result does: the value is
 * checked when it is recorded.
 */
export type CheckedSideEffect<R> = 0 extends 1 & R
  ? unknown
  : unknown extends R
    ? unknown
    : [R] extends [JsonCompatible<R>]
      ? unknown
      : SideEffectNotJson;

/** What `task()` and `workflow()` show for a schema whose output, stored and read back, it does not accept. */
export type SchemaOutputNotReadBack =
  "the schema must accept its own output as JSON reads it back: the output is stored as JSON and validated again on every read (no transform to another type; z.coerce.date() rather than z.date(); no bigint)";

/**
 * `true` when what a schema outputs, stored as JSON and read back, is input
 * it accepts and can be stored at all; `never` when not: the run-time rule
 * (the worker validates stored arguments again before each attempt, a read
 * validates a stored result again) checked where the task is defined.
 */
type ReadBackMark<In, Out> = [StorableMark<StoredAs<Out, never>>] extends [never]
  ? never
  : [StoredAs<Out, never>] extends [In | Readonly<In>]
    ? true
    : never;

/** `unknown` when schema `S` accepts its own output as stored (or `S` is no schema), else what the compiler shows. */
export type CheckedSchema<S> = S extends StandardSchemaV1
  ? [ReadBackMark<StandardSchemaV1.InferInput<S>, StandardSchemaV1.InferOutput<S>>] extends [never]
    ? SchemaOutputNotReadBack
    : unknown
  : unknown;
