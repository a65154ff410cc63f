/**
 * @module testing/test-queue-options
 * `TestQueue` options, checked at construction as a `Worker`'s are: a typo
 * (`clok`) would leave the system clock in place, and a value of the wrong
 * type (a list of pairs for `dependencyOverrides`, a lone function for
 * `middleware`) would be ignored or fail later in every task as a bare
 * `TypeError`. The options a `TestQueue` shares with a `Worker` go through
 * the Worker's checks; `name` and `maxPayloadBytes` are the `Queue`'s.
 */
import { type Clock, systemClock } from "../clock.js";
import type { DependencyOverrides } from "../task/dependency-types.js";
import type { Middleware } from "../task/middleware-types.js";
import { checkOptionKeys } from "../util/unknown-keys.js";
import { clockOption, middlewareList, overrides } from "../worker/worker-option-checks.js";

export interface TestQueueOptions {
  /** Queue name (default `"test-queue"`). */
  name?: string;
  /** Dependency replacements for every task this queue runs: a `Map` from each dependency function to its replacement. */
  dependencyOverrides?: DependencyOverrides;
  /** Worker-level middleware around every task this queue runs (a list of functions). */
  middleware?: readonly Middleware[];
  /** Time source (default: the system clock); a `TestClock` to move time by hand. */
  clock?: Clock;
  /** The payload limit on arguments and results, as a `Queue`'s (default 16 MiB). */
  maxPayloadBytes?: number;
}

/** Every key of {@link TestQueueOptions} (the compiler keeps it complete). */
const TEST_QUEUE_OPTION_KEYS = Object.keys({
  name: true,
  dependencyOverrides: true,
  middleware: true,
  clock: true,
  maxPayloadBytes: true,
} satisfies Record<keyof TestQueueOptions, true>);

/** What the attempt pipeline of a `TestQueue` runs with. */
export interface ResolvedTestQueueOptions {
  readonly middleware: readonly Middleware[];
  readonly dependencyOverrides: DependencyOverrides | undefined;
  readonly clock: Clock;
}

/** Checks `options` (refusing each bad one with a one-line `InvalidOptionError`) and fills in defaults. */
export function resolveTestQueueOptions(options: TestQueueOptions): ResolvedTestQueueOptions {
  checkOptionKeys(options, TEST_QUEUE_OPTION_KEYS, "new TestQueue()");
  return {
    middleware: middlewareList(options.middleware, "TestQueue"),
    dependencyOverrides: overrides(options.dependencyOverrides, "TestQueue"),
    clock: clockOption(options.clock, systemClock, "TestQueue"),
  };
}
