/**
 * @module execution/dependencies
 * Dependency injection that keeps task signatures plain: inside a task (or a
 * dependency) `await use(dep)` resolves `dep` once per attempt. A generator
 * dependency yields its value and finishes (teardown) after the attempt, in
 * reverse order of resolution. Overrides swap a dependency for tests.
 */
import { DependencyError } from "../errors.js";
import { type Dependency, runScope } from "./run-context.js";

/** The value a dependency provides: what it returns, resolves to, or first yields. */
export type DependencyValue<D> = D extends () => infer T ? ProvidedValue<T> : never;

/** Distributes over a union return type, so `Dependency<T>` (returning `T | Promise<T> | Generator<T> | …`) gives `T`. */
type ProvidedValue<T> =
  T extends AsyncGenerator<infer Y, unknown, undefined>
    ? Y
    : T extends Generator<infer Y, unknown, undefined>
      ? Y
      : Awaited<T>;

type AnyGenerator =
  | Generator<unknown, unknown, undefined>
  | AsyncGenerator<unknown, unknown, undefined>;

function isGenerator(value: unknown): value is AnyGenerator {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as AnyGenerator).next === "function" &&
    typeof (value as AnyGenerator).return === "function" &&
    (Symbol.iterator in value || Symbol.asyncIterator in value)
  );
}

function dependencyName(dep: Dependency): string {
  return dep.name || "anonymous dependency";
}

/**
 * Resolves a dependency for the running attempt (once; later calls share the value).
 * @example
 * async function* database() {
 *   const db = await connect();
 *   yield db;
 *   await db.close(); // runs after the task finishes
 * }
 * const save = task({ name: "save" }, async (row: Row) => (await use(database)).insert(row));
 */
export function use<D extends Dependency>(dep: D): Promise<DependencyValue<D>> {
  const scope = runScope.getStore();
  if (!scope)
    throw new DependencyError(`use(${dependencyName(dep)}) was called outside a running task`);
  const { attempt } = scope;
  if (scope.resolving.includes(dep)) {
    const chain = [...scope.resolving, dep].map(dependencyName).join(" → ");
    return Promise.reject(new DependencyError(`circular dependency: ${chain}`));
  }
  const cached = attempt.resolved.get(dep);
  if (cached) return cached as Promise<DependencyValue<D>>;
  const impl = attempt.overrides?.get(dep) ?? dep;
  const nested = { attempt, resolving: [...scope.resolving, dep] };
  const pending = runScope.run(nested, () => resolve(impl, attempt.teardowns));
  attempt.resolved.set(dep, pending);
  return pending as Promise<DependencyValue<D>>;
}

async function resolve(impl: Dependency, teardowns: (() => Promise<void>)[]): Promise<unknown> {
  const produced = await impl();
  if (!isGenerator(produced)) return produced;
  const first = await produced.next();
  if (first.done) {
    throw new DependencyError(
      `generator dependency ${dependencyName(impl)} finished without yielding a value`,
    );
  }
  teardowns.push(async () => {
    // Resume past the `yield` so the code after it runs; a second yield is not waited for.
    const rest = await produced.next();
    if (!rest.done) await produced.return(undefined);
  });
  return first.value;
}

/** Runs teardowns newest first; returns the errors they threw (the attempt's outcome does not change). */
export async function runTeardowns(
  teardowns: readonly (() => Promise<void>)[],
): Promise<unknown[]> {
  const failures: unknown[] = [];
  for (let i = teardowns.length - 1; i >= 0; i--) {
    try {
      await teardowns[i]!();
    } catch (error) {
      failures.push(error);
    }
  }
  return failures;
}
