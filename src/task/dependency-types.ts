/**
 * @module task/dependency-types
 * The shape of dependencies and their test overrides (and the checked way
 * to write one), declared low so that
 * anything may carry overrides (a worker, a test queue, a backend that runs
 * tasks inline) without depending on how `use()` resolves them
 * (`execution/dependencies.ts`).
 */

import { InvalidOptionError } from "../errors.js";
import { describeGiven } from "./describe-value.js";

/** A dependency: a function resolved when a task runs (see `use`). */
export type Dependency<T = unknown> = () =>
  | T
  | Promise<T>
  | Generator<T, unknown, undefined>
  | AsyncGenerator<T, unknown, undefined>;

/**
 * Replacements for dependencies (tests): `new Map([overrideDependency(realDb, fakeDb)])`,
 * or `new Map([[realDb, fakeDb]])`, which the compiler does not check.
 */
export type DependencyOverrides = ReadonlyMap<Dependency, Dependency>;

/** `T` where it must not be inferred from (the replacement must fit the dependency, not widen it). */
type Fixed<T> = [T][T extends unknown ? 0 : never];

/**
 * One entry of {@link DependencyOverrides}, checked: the replacement must
 * give what the dependency gives (an object of the same shape, by value,
 * promise or generator), so a fake that no longer matches the real
 * dependency is a compile error rather than a test that passes by mistake.
 * @example new TestQueue({ dependencyOverrides: new Map([overrideDependency(database, fakeDatabase)]) })
 */
export function overrideDependency<T>(
  dependency: Dependency<T>,
  replacement: Dependency<Fixed<T>>,
): readonly [Dependency, Dependency] {
  // The types check this; a caller in JavaScript, or past an `as any`, learns it here.
  for (const [which, value] of [
    ["dependency", dependency],
    ["replacement", replacement],
  ] as const) {
    if (typeof value !== "function") {
      throw new InvalidOptionError(
        `overrideDependency(): the ${which} must be a function (got ${describeGiven(value)})`,
      );
    }
  }
  return [dependency as Dependency, replacement as Dependency];
}
