/** Task records of every shape a store holds, for property tests of stored forms. */
import fc from "fast-check";
import { type TaskData, task } from "sheppy";

export const plain = task({ name: "compact.plain" }, () => null);
const iso = fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => new Date(ms).toISOString());
const orNull = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });
const json = fc.jsonValue({ maxDepth: 3 });

const config = fc.record(
  {
    retry: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 10 })),
    retryDelay: fc.oneof(
      fc.constant(1),
      fc.integer({ min: 0, max: 100 }),
      fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 4 }),
    ),
    timeout: orNull(fc.integer({ min: 1, max: 600 })),
    retryOnTimeout: fc.boolean(),
    retryOnCrash: fc.boolean(),
    rateLimit: fc.oneof(
      fc.constant(null),
      fc.record({
        maxRate: fc.integer({ min: 1, max: 100 }),
        ratePeriod: fc.integer({ min: 1, max: 100 }),
        strategy: fc.constantFrom("sliding_window", "fixed_window"),
        key: fc.string({ minLength: 1, maxLength: 8 }),
      }),
    ),
    ttl: orNull(fc.integer({ min: 1, max: 10_000 })),
    errorTtl: orNull(fc.integer({ min: 1, max: 10_000 })),
  },
  {
    requiredKeys: ["retry", "retryDelay", "timeout", "retryOnTimeout", "retryOnCrash", "rateLimit"],
  },
);

/** Records of every shape a store holds: each field at its default or not, optional fields present or absent. */
export const record: fc.Arbitrary<TaskData> = fc
  .record(
    {
      args: fc.oneof(fc.constant([]), fc.array(json, { maxLength: 3 })),
      status: fc.constantFrom(
        "pending",
        "scheduled",
        "processing",
        "completed",
        "failed",
        "cancelled",
        "crashed",
      ),
      result: fc.oneof(fc.constant(null), json),
      error: fc.oneof(
        fc.constant(null),
        fc.record({
          type: fc.string({ minLength: 1, maxLength: 10 }),
          message: fc.string({ maxLength: 20 }),
        }),
      ),
      config,
      scheduledAt: orNull(iso),
      startedAt: orNull(iso),
      finishedAt: orNull(iso),
      retryCount: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5 })),
      manualRetryCount: fc.integer({ min: 0, max: 3 }),
      lastRetryAt: orNull(iso),
      nextRetryAt: orNull(iso),
      workflowId: orNull(fc.uuid()),
      cronId: orNull(fc.string({ minLength: 1, maxLength: 8 })),
      priority: fc.oneof(fc.constant(0), fc.integer({ min: -5, max: 5 })),
      concurrencyKey: orNull(fc.string({ minLength: 1, maxLength: 8 })),
      concurrencyLimit: fc.integer({ min: 1, max: 4 }),
      meta: fc.oneof(
        fc.constant({}),
        fc.dictionary(fc.string({ maxLength: 6 }), json, { maxKeys: 3 }),
      ),
      progress: json,
      logs: fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
      dedupeKey: fc.string({ minLength: 1, maxLength: 8 }),
    },
    {
      requiredKeys: [
        "args",
        "status",
        "result",
        "error",
        "config",
        "scheduledAt",
        "startedAt",
        "finishedAt",
        "retryCount",
        "lastRetryAt",
        "nextRetryAt",
        "workflowId",
        "cronId",
        "priority",
        "concurrencyKey",
        "meta",
      ],
    },
  )
  .map((fields) => ({ ...plain().toJSON(), ...fields }) as TaskData);
