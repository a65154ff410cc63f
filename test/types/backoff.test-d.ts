/**
 * Type-level contract of failure control (checked by `vitest --project types`):
 * every `retryDelay` form is accepted and inferred without annotations, a
 * misspelt strategy is refused, and `UnrecoverableError` is a `SheppyError`.
 */
import {
  type BackoffFunction,
  type RetryDelay,
  type SheppyError,
  type StoredRetryDelay,
  task,
  UnrecoverableError,
} from "sheppy";
import { describe, expectTypeOf, test } from "vitest";

describe("retryDelay and UnrecoverableError types", () => {
  test("every form is accepted; a function's parameters are inferred", () => {
    task({ name: "bt-number", retryDelay: 5 }, () => 1);
    task({ name: "bt-list", retryDelay: [1, 10, 60] }, () => 1);
    task({ name: "bt-fixed", retryDelay: { type: "fixed", delay: 5, jitter: "full" } }, () => 1);
    task(
      { name: "bt-exp", retryDelay: { type: "exponential", delay: 1, factor: 3, max: 60 } },
      () => 1,
    );
    task(
      {
        name: "bt-fn",
        retryDelay: (attempt, error) => {
          expectTypeOf(attempt).toEqualTypeOf<number>();
          expectTypeOf(error).toEqualTypeOf<unknown>();
          return attempt * 2;
        },
      },
      () => 1,
    );
    expectTypeOf<BackoffFunction>().toMatchTypeOf<RetryDelay>();
  });

  test("a misspelt or incomplete strategy does not compile", () => {
    // @ts-expect-error exponential needs its cap
    task({ name: "bt-nomax", retryDelay: { type: "exponential", delay: 1 } }, () => 1);
    // @ts-expect-error no such strategy
    task({ name: "bt-linear", retryDelay: { type: "linear", delay: 1 } }, () => 1);
    // @ts-expect-error jitter is "none" | "full" | "equal"
    task({ name: "bt-jitter", retryDelay: { type: "fixed", delay: 1, jitter: true } }, () => 1);
    // @ts-expect-error the function returns seconds, not a promise of them
    task({ name: "bt-async", retryDelay: async () => 1 }, () => 1);
  });

  test("the stored config never holds a function", () => {
    const t = task({ name: "bt-stored", retryDelay: () => 1 }, () => 1);
    expectTypeOf(t.config.retryDelay).toEqualTypeOf<StoredRetryDelay>();
  });

  test("UnrecoverableError is a SheppyError that takes a cause", () => {
    const error = new UnrecoverableError("card declined", { cause: new Error("402") });
    expectTypeOf(error).toMatchTypeOf<SheppyError>();
    expectTypeOf(error.unrecoverable).toEqualTypeOf<true>();
  });
});
