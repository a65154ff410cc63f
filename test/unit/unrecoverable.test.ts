/**
 * Unrecoverable failures, in the pure parts: which thrown values end a task
 * at once (an `UnrecoverableError`, or an own `unrecoverable: true`), never
 * throwing on a hostile value, and the record such a failure leaves.
 */
import { task, UnrecoverableError } from "sheppy";
import { describe, expect, test } from "vitest";
import { failedRecord, failureKindOf, isUnrecoverable } from "../../src/execution/outcome.js";

describe("unrecoverable failures", () => {
  const t = task({ name: "unrecoverable-unit", retry: 3 }, () => 1);

  test("an UnrecoverableError, or an own `unrecoverable: true`, is fatal; nothing else is", () => {
    expect(isUnrecoverable(new UnrecoverableError("no"))).toBe(true);
    expect(isUnrecoverable(Object.assign(new Error("no"), { unrecoverable: true }))).toBe(true);
    expect(isUnrecoverable({ unrecoverable: true })).toBe(true);
    expect(isUnrecoverable(Object.assign(new Error("no"), { unrecoverable: "true" }))).toBe(false);
    expect(isUnrecoverable(Object.create({ unrecoverable: true }))).toBe(false);
    expect(isUnrecoverable(new Error("no"))).toBe(false);
    expect(isUnrecoverable("unrecoverable")).toBe(false);
    expect(isUnrecoverable(null)).toBe(false);
    const hostile = new Proxy(
      {},
      {
        getOwnPropertyDescriptor() {
          throw new Error("trap");
        },
        getPrototypeOf() {
          throw new Error("trap");
        },
      },
    );
    expect(isUnrecoverable(hostile)).toBe(false);
    expect(failureKindOf(new UnrecoverableError("no"))).toBe("fatal");
    expect(failureKindOf(hostile)).toBe("error");
  });

  test("the record: failed at once, retries unspent, the error stored with its flag and cause", () => {
    const data = { ...t().toJSON(), status: "processing" as const };
    const thrown = new UnrecoverableError("card declined", { cause: new Error("402") });
    const record = failedRecord(data, thrown, Date.now(), failureKindOf(thrown));
    expect(record.status).toBe("failed");
    expect(record.retryCount).toBe(0);
    expect(record.nextRetryAt).toBeNull();
    expect(record.error).toMatchObject({
      type: "UnrecoverableError",
      message: "card declined",
      props: { unrecoverable: true },
      cause: { message: "402" },
    });
  });
});
