/**
 * @module task/dependency-types
 * The shape of dependencies and their test overrides, declared low so that
 * anything may carry overrides (a worker, a test queue, a backend that runs
 * tasks inline) without depending on how `use()` resolves them
 * (`execution/dependencies.ts`).
 */

/** A dependency: a function resolved when a task runs (see `use`). */
export type Dependency<T = unknown> = () =>
  | T
  | Promise<T>
  | Generator<T, unknown, undefined>
  | AsyncGenerator<T, unknown, undefined>;

/** Replacements for dependencies (tests): `new Map([[realDb, fakeDb]])`. */
export type DependencyOverrides = ReadonlyMap<Dependency, Dependency>;
