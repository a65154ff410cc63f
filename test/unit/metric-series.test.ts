/**
 * Labelled series: for any label values (task names are user data — empty,
 * unicode, values that contain each other or separators), every count lands
 * in the series of exactly its values, each series is listed once in the
 * order it first counted, and a histogram puts each value in the first
 * bucket that holds it.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Counter, Histogram } from "../../src/observability/metrics.js";

const value = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.constantFrom("", ":", "1:a", "a", "1:", "a:1:b"),
);
const count = fc.record({ queue: value, task: value, by: fc.nat(5) });

describe("metric series", () => {
  it("keep every combination of label values apart, listed once in first-count order", () => {
    fc.assert(
      fc.property(fc.array(count, { maxLength: 40 }), (counts) => {
        const counter = new Counter("c_total", "c", ["queue", "task"]);
        const expected = new Map<string, { queue: string; task: string; value: number }>();
        for (const { queue, task, by } of counts) {
          counter.inc({ queue, task }, by);
          const key = JSON.stringify([queue, task]);
          const seen = expected.get(key) ?? { queue, task, value: 0 };
          seen.value += by;
          expected.set(key, seen);
        }
        const samples = counter.family().samples;
        expect(samples.map((s) => ({ ...s.labels, value: s.value }))).toEqual([
          ...expected.values(),
        ]);
      }),
    );
  });

  it("count into the first bucket whose bound holds the value", () => {
    const bounds = [0.5, 1, 2.5];
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1, max: 5, noNaN: true }), { maxLength: 30 }),
        (values) => {
          const histogram = new Histogram("h", "h", ["queue"], bounds);
          for (const v of values) histogram.observe({ queue: "q" }, v);
          const [series] = histogram.family().series;
          if (values.length === 0) {
            expect(series).toBeUndefined();
            return;
          }
          const cumulative = bounds.map((b) => values.filter((v) => v <= b).length);
          expect(series!.cumulative).toEqual(cumulative);
          expect(series!.count).toBe(values.length);
        },
      ),
    );
  });

  it("refuse a missing label value, naming the metric and the label", () => {
    const counter = new Counter("c_total", "c", ["queue", "task"]);
    expect(() => counter.inc({ queue: "q" })).toThrow("c_total: label 'task' needs a string value");
  });
});
