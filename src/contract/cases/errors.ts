/**
 * Errors stored as data: type, message, stack, own properties, cause chain,
 * validation issues; `toError()` rebuilds the original class when this process
 * knows it, else a TaskFailedError; results JSON cannot store fail the task.
 */

import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  registerErrorClass,
  SerializationError,
  step,
  TaskFailedError,
  task,
  ValidationError,
  workflow,
} from "../../index.js";
import type { ContractHarness } from "../harness.js";
import { numberResult } from "../support/schemas.js";
import { PerTest } from "../support/until.js";

class ErrorsCasePaymentDeclined extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}
registerErrorClass(ErrorsCasePaymentDeclined);

/** A registered class whose constructor rejects anything but its own argument shape. */
class ErrorsCaseStrict extends Error {
  constructor(options: { reason: string }) {
    if (typeof options?.reason !== "string") throw new TypeError("ErrorsCaseStrict needs a reason");
    super(`strict: ${options.reason}`);
    this.name = "ErrorsCaseStrict";
  }
}
registerErrorClass(ErrorsCaseStrict);

/** Never registered: rebuilt as TaskFailedError. */
class ErrorsCaseUnregistered extends Error {}

const raiseRange = task({ name: "errors.raiseRange" }, function raiseRangeError(): number {
  throw new RangeError("boom");
});
const declined = task({ name: "errors.declined" }, async (amount: number): Promise<string> => {
  throw new ErrorsCasePaymentDeclined(`declined ${amount}`, 5);
});
const strict = task({ name: "errors.strict" }, (): string => {
  throw new ErrorsCaseStrict({ reason: "bad input" });
});
const unregistered = task({ name: "errors.unregistered" }, (): string => {
  throw new ErrorsCaseUnregistered("who knows me");
});
const oddProps = task({ name: "errors.oddProps" }, (): string => {
  const error = new Error("odd properties") as Error & Record<string, unknown>;
  error.big = 10n;
  error.handler = () => 1;
  error.detail = { ok: true };
  throw error;
});
const withCause = task({ name: "errors.withCause" }, (): string => {
  throw new Error("outer", { cause: new RangeError("inner", { cause: new TypeError("root") }) });
});
const throwsString = task({ name: "errors.throwsString" }, (): string => {
  throw "plain string";
});
const ok = task({ name: "errors.ok" }, (a: number, b: number) => a + b);

const attempts = new PerTest(() => ({ count: 0 }));
const transient = task({ name: "errors.transient", retry: 1, retryDelay: 0.1 }, (token: string) => {
  if (++attempts.get(token).count === 1) throw new Error("transient error");
  return "recovered";
});
const failOnceNoRetry = task({ name: "errors.failOnceNoRetry" }, (token: string) => {
  if (++attempts.get(token).count === 1) throw new Error("first run fails");
  return "second run ok";
});

const wrongResult = task(
  { name: "errors.wrongResult", result: numberResult },
  (() => "not a number") as unknown as () => number,
);
// Results JSON cannot store are refused at compile time too; these check the run-time
// refusal that protects callers the compiler does not see (JavaScript, casts).
// @ts-expect-error a function is not a storable result
const returnsFunction = task({ name: "errors.returnsFunction" }, () => () => 1);
// @ts-expect-error a bigint is not a storable result
const returnsBigInt = task({ name: "errors.returnsBigInt" }, () => 10n);
// @ts-expect-error a Map is not a storable result
const returnsMap = task({ name: "errors.returnsMap" }, () => new Map([["a", 1]]));

const startsNothing = workflow({ name: "errors.startsNothing" }, function* (n: number) {
  const sum = yield* step(ok(n, 1));
  return sum.result;
});
// @ts-expect-error a returned workflow would be stored, not started
const returnsWorkflow = task({ name: "errors.returnsWorkflow", retry: 2 }, (n: number) =>
  startsNothing(n),
);

// Returned after the work is done: counted, so a retry that ran the function again shows.
const sideEffectRuns = new PerTest(() => ({ count: 0 }));
const chargesThenReturnsBigInt = task(
  { name: "errors.chargesThenReturnsBigInt", retry: 3, retryDelay: 0 },
  (token: string) => {
    sideEffectRuns.get(token).count++;
    return { amount: 10, at: 10n as unknown as number };
  },
);
const chargesThenReturnsNaN = task(
  { name: "errors.chargesThenReturnsNaN", retry: 3, retryDelay: 0 },
  (token: string) => {
    sideEffectRuns.get(token).count++;
    return Number.NaN;
  },
);

export function errorsCases(h: ContractHarness): void {
  describe("errors", () => {
    it("E-1 a task that throws ends failed with an error record: type, message, stack", async () => {
      const queue = h.queue();
      const t = raiseRange();
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      const failed = (await queue.getTask(t))!;
      expect(failed.status).toBe("failed");
      expect(failed.result).toBeNull();
      expect(failed.finishedAt).not.toBeNull();
      expect(failed.error?.type).toBe("RangeError");
      expect(failed.error?.message).toBe("boom");
      expect(failed.error?.stack).toContain("boom");
      expect(failed.error?.stack).toContain("raiseRangeError");
    });

    it("E-3 a custom error class keeps its name and own properties; the record survives a JSON round trip", async () => {
      const queue = h.queue();
      const t = declined(12);
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      const error = (await queue.getTask(t))!.error!;
      expect(error.type).toBe("ErrorsCasePaymentDeclined");
      expect(error.message).toBe("declined 12");
      expect(error.props).toEqual({ code: 5 });
      const json = error.toJSON();
      expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    });

    it("E-4 toError() rebuilds a registered class with its message and properties; built-in classes are known", async () => {
      const queue = h.queue();
      const custom = declined(7);
      const builtin = raiseRange();
      await queue.add([custom, builtin]);
      await h.worker(queue).work({ oneshot: true });
      const [c, b] = await queue.getTask([custom, builtin]);
      const rebuilt = c!.error!.toError();
      expect(rebuilt).toBeInstanceOf(ErrorsCasePaymentDeclined);
      expect(rebuilt.message).toBe("declined 7");
      expect((rebuilt as ErrorsCasePaymentDeclined).code).toBe(5);
      expect(rebuilt.stack).toBe(c!.error!.stack);
      const range = b!.error!.toError();
      expect(range).toBeInstanceOf(RangeError);
      expect(range.message).toBe("boom");
    });

    it("E-5 toError() rebuilds a registered class even when its constructor would reject the stored data", async () => {
      const queue = h.queue();
      const t = strict();
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      const error = (await queue.getTask(t))!.error!;
      expect(error.type).toBe("ErrorsCaseStrict");
      const rebuilt = error.toError();
      expect(rebuilt).toBeInstanceOf(ErrorsCaseStrict);
      expect(rebuilt.message).toBe("strict: bad input");
    });

    it("E-6 an unknown error class is rebuilt as TaskFailedError carrying originalType, message and stack", async () => {
      const queue = h.queue();
      const t = unregistered();
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      const error = (await queue.getTask(t))!.error!;
      expect(error.type).toBe("ErrorsCaseUnregistered");
      const rebuilt = error.toError();
      expect(rebuilt).toBeInstanceOf(TaskFailedError);
      expect(rebuilt).not.toBeInstanceOf(ErrorsCaseUnregistered);
      const failed = rebuilt as TaskFailedError;
      expect(failed.originalType).toBe("ErrorsCaseUnregistered");
      expect(failed.message).toBe("who knows me");
      expect(failed.originalStack).toBe(error.stack);
    });

    it("E-7 error properties JSON cannot store are kept as text; the record stays JSON", async () => {
      const queue = h.queue();
      const t = oddProps();
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      const error = (await queue.getTask(t))!.error!;
      expect(error.props?.big).toBe("10");
      expect(typeof error.props?.handler).toBe("string");
      expect(error.props?.detail).toEqual({ ok: true });
      expect(JSON.parse(JSON.stringify(error.toJSON()))).toEqual(error.toJSON());
    });

    it("E-8 an error record's string form is 'Type: message'", async () => {
      const queue = h.queue();
      const t = raiseRange();
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      expect(String((await queue.getTask(t))!.error)).toBe("RangeError: boom");
    });

    it("E-9 a successful task has no error; completing after a failure clears it", async () => {
      const queue = h.queue();
      const good = ok(1, 2);
      const token = randomUUID();
      const flaky = failOnceNoRetry(token);
      await queue.add([good, flaky]);
      const worker = h.worker(queue);
      await worker.work({ oneshot: true });
      expect((await queue.getTask(good))?.error).toBeNull();
      expect((await queue.getTask(flaky))?.error?.message).toBe("first run fails");
      expect(await queue.retry(flaky)).toBe(true);
      await worker.work({ oneshot: true });
      const done = (await queue.getTask(flaky))!;
      expect([done.status, done.result, done.error]).toEqual(["completed", "second run ok", null]);
    });

    it("E-10 a task waiting for a retry keeps the previous attempt's error until a later attempt succeeds", async () => {
      const queue = h.queue();
      const t = transient(randomUUID());
      await queue.add(t);
      const worker = h.worker(queue);
      await worker.work({ maxTasks: 1 });
      const waiting = (await queue.getTask(t))!;
      expect(waiting.status).toBe("retrying");
      expect(waiting.finishedAt).toBeNull();
      expect(String(waiting.error)).toBe("Error: transient error");
      await worker.work({ maxTasks: 1 });
      const done = (await queue.getTask(t))!;
      expect([done.status, done.result, done.error]).toEqual(["completed", "recovered", null]);
    });

    it("the cause chain is stored and rebuilt", async () => {
      const queue = h.queue();
      const t = withCause();
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      const error = (await queue.getTask(t))!.error!;
      expect(String(error)).toBe("Error: outer");
      expect(String(error.cause)).toBe("RangeError: inner");
      expect(String(error.cause?.cause)).toBe("TypeError: root");
      expect(error.cause?.cause?.cause).toBeNull();
      const rebuilt = error.toError();
      expect(rebuilt.cause).toBeInstanceOf(RangeError);
      expect((rebuilt.cause as Error).cause).toBeInstanceOf(TypeError);
    });

    it("a thrown non-Error value is stored as type NonError with its text", async () => {
      const queue = h.queue();
      const t = throwsString();
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      const failed = (await queue.getTask(t))!;
      expect(failed.status).toBe("failed");
      expect(String(failed.error)).toBe("NonError: plain string");
    });

    it("T-20 a result that fails its schema fails the task with a ValidationError and its issues", async () => {
      const queue = h.queue();
      const t = wrongResult();
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      const failed = (await queue.getTask(t))!;
      expect(failed.status).toBe("failed");
      expect(failed.result).toBeNull();
      expect(failed.error?.type).toBe("ValidationError");
      expect(failed.error?.message).toMatch(/errors\.wrongResult/);
      expect(failed.error?.issues?.length).toBeGreaterThan(0);
      expect(failed.error?.issues?.[0]?.message).toEqual(expect.any(String));
      const rebuilt = failed.error!.toError();
      expect(rebuilt).toBeInstanceOf(ValidationError);
      expect((rebuilt as ValidationError).issues).toEqual(failed.error?.issues);
    });

    it("a result JSON cannot store (a function, a BigInt, a Map) fails the task with SerializationError", async () => {
      const queue = h.queue();
      const tasks = [returnsFunction(), returnsBigInt(), returnsMap()];
      await queue.add(tasks);
      const summary = await h.worker(queue).work({ oneshot: true });
      expect(summary).toMatchObject({ processed: 0, failed: 3 });
      for (const stored of await queue.getTask(tasks)) {
        expect(stored?.status).toBe("failed");
        expect(stored?.result).toBeNull();
        expect(stored?.error?.type).toBe("SerializationError");
        expect(stored?.error?.toError()).toBeInstanceOf(SerializationError);
      }
    });

    it("a workflow returned by a task fails it without a retry, saying how a workflow is started; no workflow is stored", async () => {
      const queue = h.queue();
      const t = returnsWorkflow(5);
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      const stored = await queue.getTask(t);
      expect([stored?.status, stored?.retryCount, stored?.error?.type]).toEqual([
        "failed",
        0,
        "SerializationError",
      ]);
      expect(stored?.error?.message).toMatch(
        /^task 'errors\.returnsWorkflow' returned a workflow, which would be stored as its result, not started: a task starts a workflow through a queue \(queue\.addWorkflow\(\)\); not retried/,
      );
      expect(await queue.getAllWorkflows()).toEqual([]);
    });

    it("a result JSON cannot store fails the task without a retry: the function ran to its end, and another run would repeat it", async () => {
      const queue = h.queue();
      const tokens = [randomUUID(), randomUUID()];
      const tasks = [chargesThenReturnsBigInt(tokens[0]!), chargesThenReturnsNaN(tokens[1]!)];
      await queue.add(tasks);
      await h.worker(queue).work({ oneshot: true });
      for (const [i, stored] of (await queue.getTask(tasks)).entries()) {
        expect(sideEffectRuns.get(tokens[i]!).count).toBe(1);
        expect(stored?.status).toBe("failed");
        expect(stored?.retryCount).toBe(0);
        expect(stored?.error?.type).toBe("SerializationError");
        expect(stored?.error?.props?.unrecoverable).toBe(true);
        expect(stored?.error?.message).toMatch(
          /JSON cannot store: .*; not retried: the function ran to its end, and another attempt would repeat what it did$/,
        );
      }
    });
  });
}
