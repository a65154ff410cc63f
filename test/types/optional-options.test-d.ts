/**
 * Under `exactOptionalPropertyTypes`, an option given as a value that may be
 * `undefined` (`timeout: config.timeout`) type-checks wherever the call
 * treats `undefined` as "not given", as every options object of the API does.
 */
import {
  type CancelOptions,
  type QueueOptions,
  type RescheduleOptions,
  type RetryOptions,
  type TaskOptions,
  task,
  type WorkerOptions,
} from "sheppy";
import type { HttpHandlerOptions } from "sheppy/http";
import { describe, expectTypeOf, test } from "vitest";

declare const maybeNumber: number | undefined;
declare const maybeText: string | undefined;
declare const maybeFlag: boolean | undefined;

describe("options that may be undefined", () => {
  test("task options", () => {
    const t = task(
      {
        name: "optional-options.t",
        timeout: maybeNumber,
        retry: maybeNumber,
        priority: maybeNumber,
      },
      (n: number) => n,
    );
    expectTypeOf(t(1).id).toEqualTypeOf<string>();
    expectTypeOf<{ timeout: number | undefined }>().toMatchTypeOf<TaskOptions>();
  });

  test("queue, worker, HTTP handler, cancel, retry and reschedule options", () => {
    expectTypeOf<{ name: string | undefined }>().toMatchTypeOf<QueueOptions>();
    expectTypeOf<{
      concurrency: number | undefined;
      handleSignals: boolean | undefined;
    }>().toMatchTypeOf<WorkerOptions>();
    expectTypeOf<{
      basePath: string | undefined;
      readOnly: boolean | undefined;
    }>().toMatchTypeOf<HttpHandlerOptions>();
    expectTypeOf<{ force: boolean | undefined }>().toMatchTypeOf<CancelOptions>();
    expectTypeOf<{
      at: number | undefined;
      force: boolean | undefined;
    }>().toMatchTypeOf<RetryOptions>();
    expectTypeOf<{
      at: string | undefined;
      priority: number | undefined;
    }>().toMatchTypeOf<RescheduleOptions>();
    void [maybeText, maybeFlag];
  });
});
