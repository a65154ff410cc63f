/**
 * A rate limit's key may be a function of the task's arguments (a limit per
 * tenant): each task stores the key computed from its stored arguments, so
 * every worker and backend counts it as a fixed key; a function that throws
 * or gives no usable key fails the task's creation, naming the task.
 */
import fc from "fast-check";
import { InvalidOptionError, TaskDefinitionError, task } from "sheppy";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { taskSpecByName } from "../../src/task/task-by-name.js";

const perTenant = task(
  {
    name: "rate-limit-key-function.per-tenant",
    rateLimit: { maxRate: 5, ratePeriod: 60, key: (tenant) => `t:${tenant}` },
  },
  (tenant: string, n: number) => `${tenant}:${n}`,
);

describe("a rate limit key function", () => {
  it("stores each task's own key beside the shared rest of the option", () => {
    const a = perTenant("acme", 1);
    const b = perTenant("globex", 2);
    expect(a.config.rateLimit).toEqual({
      maxRate: 5,
      ratePeriod: 60,
      key: "t:acme",
      strategy: "sliding_window",
    });
    expect(b.config.rateLimit?.key).toBe("t:globex");
    // The definition's own options keep the task's name as the key: nothing was computed there.
    expect(perTenant.config.rateLimit?.key).toBe("rate-limit-key-function.per-tenant");
    expect(Object.isFrozen(a.config.rateLimit)).toBe(true);
  });

  it("sees the arguments as stored (after the args schema)", () => {
    const trimmed = task(
      {
        name: "rate-limit-key-function.schema",
        args: z.tuple([z.string().trim().toLowerCase()]),
        rateLimit: { maxRate: 1, ratePeriod: 1, key: (tenant) => tenant },
      },
      (tenant) => tenant,
    );
    expect(trimmed("  ACME ").config.rateLimit?.key).toBe("acme");
  });

  it("gives a task made by name (the CLI, the HTTP API, declared crons) the same key", () => {
    const spec = taskSpecByName("rate-limit-key-function.per-tenant", ["initech", 3]);
    expect(spec.config.rateLimit?.key).toBe("t:initech");
  });

  it("keys are counted in characters as read (an emoji is one), and a key given as it is has the same bound", () => {
    const given = { value: "" };
    const keyed = task(
      {
        name: "rate-limit-key-function.emoji",
        rateLimit: { maxRate: 1, ratePeriod: 1, key: () => given.value },
      },
      () => 1,
    );
    given.value = "🐑".repeat(256);
    expect(keyed().config.rateLimit?.key).toBe(given.value);
    given.value = "🐑".repeat(257);
    expect(() => keyed()).toThrow(
      "rate limit key (its function given []) must be at most 256 characters (got 257)",
    );
    expect(() =>
      task(
        {
          name: "rate-limit-key-function.long",
          rateLimit: { maxRate: 1, ratePeriod: 1, key: "k".repeat(257) },
        },
        () => 1,
      ),
    ).toThrow("rateLimit.key must be at most 256 characters (got 257)");
    const emoji = task(
      {
        name: "rate-limit-key-function.static-emoji",
        rateLimit: { maxRate: 1, ratePeriod: 1, key: "🐑".repeat(256) },
      },
      () => 1,
    );
    expect(emoji().config.rateLimit?.key).toBe("🐑".repeat(256));
  });

  it("that throws, or gives anything but non-empty text of at most 256 characters, fails the task's creation", () => {
    const thrower = task(
      {
        name: "rate-limit-key-function.throws",
        rateLimit: {
          maxRate: 1,
          ratePeriod: 1,
          key: () => {
            throw new Error("no tenant");
          },
        },
      },
      () => 1,
    );
    expect(() => thrower()).toThrow(
      new InvalidOptionError(
        "task 'rate-limit-key-function.throws': its rate limit key function given [] threw: no tenant",
      ),
    );
    const given = { value: undefined as unknown };
    const bad = task(
      {
        name: "rate-limit-key-function.bad",
        rateLimit: { maxRate: 1, ratePeriod: 1, key: () => given.value as string },
      },
      () => 1,
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.constantFrom("", null, undefined, 0, 1, true, {}, []),
          fc.string({ minLength: 257, maxLength: 300 }),
          fc.integer(),
        ),
        (value) => {
          given.value = value;
          expect(() => bad()).toThrow(InvalidOptionError);
          expect(() => bad()).toThrow(
            /^task 'rate-limit-key-function\.bad': rate limit key \(its function given \[\]\) must be/,
          );
        },
      ),
    );
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 256 }), (value) => {
        given.value = value;
        expect(bad().config.rateLimit?.key).toBe(value);
      }),
    );
  });

  it("leaves the rest of the option checked when the task is defined", () => {
    expect(() =>
      task(
        {
          name: "rate-limit-key-function.bad-rate",
          rateLimit: { maxRate: 0, ratePeriod: 1, key: (n: number) => String(n) },
        },
        (n: number) => n,
      ),
    ).toThrow(TaskDefinitionError);
    expect(() =>
      task(
        {
          name: "rate-limit-key-function.bad-key",
          // @ts-expect-error a key is text or a function
          rateLimit: { maxRate: 1, ratePeriod: 1, key: 7 },
        },
        () => 1,
      ),
    ).toThrow(
      "task 'rate-limit-key-function.bad-key': rateLimit.key must be a non-empty string or a function of the task's arguments (got 7)",
    );
  });
});
