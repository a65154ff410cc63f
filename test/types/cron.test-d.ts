/**
 * Type-level contract of scheduling and crons on the Queue (checked by `vitest --project types`).
 */
import {
  type CronDefinition,
  type CronEvery,
  type CronOptions,
  type JsonValue,
  type Queue,
  task,
} from "sheppy";
import { TestQueue } from "sheppy/testing";
import { describe, expectTypeOf, test } from "vitest";

const report = task(function ctReport(kind: string) {
  return kind;
});
declare const queue: Queue;

describe("scheduling and cron types", () => {
  test("schedule takes a Date, seconds, or ISO text; retry({ at }) too", () => {
    expectTypeOf(queue.schedule(report("a"), new Date())).toEqualTypeOf<Promise<boolean>>();
    expectTypeOf(queue.schedule(report("a"), 30)).toEqualTypeOf<Promise<boolean>>();
    expectTypeOf(queue.schedule(report("a"), "2030-01-01T09:00:00Z")).toEqualTypeOf<
      Promise<boolean>
    >();
    // @ts-expect-error a task is required, not its factory
    void queue.schedule(report, 30);
    expectTypeOf(queue.retry("id", { at: "2030-01-01T09:00:00Z" })).toEqualTypeOf<
      Promise<boolean>
    >();
  });

  test("addCron / deleteCron return booleans; getCrons returns typed definitions", () => {
    expectTypeOf(queue.addCron(report("a"), "@daily")).toEqualTypeOf<Promise<boolean>>();
    expectTypeOf(queue.deleteCron(report("a"), "@daily")).toEqualTypeOf<Promise<boolean>>();
    expectTypeOf(queue.getCrons()).toEqualTypeOf<Promise<CronDefinition[]>>();
    // A definition as getCrons lists it, or either of its ids.
    const listed = {} as CronDefinition;
    expectTypeOf(queue.deleteCron(listed)).toEqualTypeOf<Promise<boolean>>();
    expectTypeOf(queue.deleteCron(listed.id)).toEqualTypeOf<Promise<boolean>>();
    // @ts-expect-error a task alone does not name a cron: its schedule is needed too
    void queue.deleteCron(report("a"));
    expectTypeOf<CronDefinition["nextRunAt"]>().toEqualTypeOf<Date | null>();
    expectTypeOf<CronDefinition["managedBy"]>().toEqualTypeOf<"config" | null>();
    expectTypeOf<CronDefinition["args"]>().toEqualTypeOf<readonly JsonValue[]>();
    expectTypeOf(new TestQueue().scheduleCronRuns()).toEqualTypeOf<Promise<number>>();
  });

  test("addCron / deleteCron take { every } or cron text with { timezone }; definitions say which", () => {
    expectTypeOf(queue.addCron(report("a"), { every: 30 })).toEqualTypeOf<Promise<boolean>>();
    expectTypeOf(
      queue.addCron(report("a"), "30 2 * * *", { timezone: "Europe/Berlin" }),
    ).toEqualTypeOf<Promise<boolean>>();
    expectTypeOf(queue.deleteCron(report("a"), { every: 30 })).toEqualTypeOf<Promise<boolean>>();
    const options: CronOptions = { timezone: "UTC" };
    const every: CronEvery = { every: 60 };
    void queue.addCron(report("a"), every);
    void queue.addCron(report("a"), "@daily", options);
    // @ts-expect-error an interval is a number of seconds
    void queue.addCron(report("a"), { every: "30" });
    // @ts-expect-error the zone is an option, not part of the schedule object
    void queue.addCron(report("a"), { every: 30, timezone: "UTC" });
    expectTypeOf<CronDefinition["expression"]>().toEqualTypeOf<string | null>();
    expectTypeOf<CronDefinition["every"]>().toEqualTypeOf<number | null>();
    expectTypeOf<CronDefinition["timezone"]>().toEqualTypeOf<string | null>();
  });
});
