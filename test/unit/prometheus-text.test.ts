/**
 * The exposition writer, read back with a real Prometheus text parser:
 * HELP/TYPE lines, histogram buckets, `_sum` and `_count`, and label values
 * that need escaping survive the round trip.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidOptionError } from "../../src/errors.js";
import { Counter, Histogram } from "../../src/observability/metrics.js";
import {
  escapeLabelValue,
  formatValue,
  type MetricFamily,
  writeExposition,
} from "../../src/observability/prometheus-text.js";
import { histogramSeries, parseExposition, sampleValue } from "../support/prometheus.js";

describe("writeExposition", () => {
  it("writes counters and gauges with HELP and TYPE lines", () => {
    const text = writeExposition([
      {
        type: "counter",
        name: "jobs_total",
        help: "Jobs done.",
        samples: [
          { labels: { queue: "a" }, value: 3 },
          { labels: { queue: "b" }, value: 0.5 },
        ],
      },
      { type: "gauge", name: "depth", help: "Depth.", samples: [{ labels: {}, value: 7 }] },
    ]);
    expect(text).toBe(
      [
        "# HELP jobs_total Jobs done.",
        "# TYPE jobs_total counter",
        'jobs_total{queue="a"} 3',
        'jobs_total{queue="b"} 0.5',
        "# HELP depth Depth.",
        "# TYPE depth gauge",
        "depth 7",
        "",
      ].join("\n"),
    );
    const parsed = parseExposition(text);
    expect(parsed.get("jobs_total")?.type).toBe("counter");
    expect(sampleValue(parsed, "jobs_total", { queue: "b" })).toBe(0.5);
    expect(sampleValue(parsed, "depth", {})).toBe(7);
  });

  it("writes histograms: cumulative buckets up to +Inf, _sum and _count per label set", () => {
    const histogram = new Histogram("run_seconds", "Run time.", ["queue"], [0.1, 1, 10]);
    for (const value of [0.05, 0.1, 0.5, 3, 30]) histogram.observe({ queue: "a" }, value);
    histogram.observe({ queue: "b" }, 2);
    const text = writeExposition([histogram.family()]);
    expect(text).toContain('run_seconds_bucket{queue="a",le="0.1"} 2\n');
    expect(text).toContain('run_seconds_bucket{queue="a",le="+Inf"} 5\n');
    const parsed = parseExposition(text);
    expect(parsed.get("run_seconds")?.type).toBe("histogram");
    expect(histogramSeries(parsed, "run_seconds", { queue: "a" })).toEqual({
      labels: { queue: "a" },
      buckets: { "0.1": 2, "1": 3, "10": 4, "+Inf": 5 },
      sum: 33.65,
      count: 5,
    });
    expect(histogramSeries(parsed, "run_seconds", { queue: "b" })).toEqual({
      labels: { queue: "b" },
      buckets: { "0.1": 0, "1": 0, "10": 1, "+Inf": 1 },
      sum: 2,
      count: 1,
    });
  });

  it("announces a family with no samples, and writes nothing for no families", () => {
    const counter = new Counter("empty_total", "Nothing yet.", ["queue"]);
    expect(writeExposition([counter.family()])).toBe(
      "# HELP empty_total Nothing yet.\n# TYPE empty_total counter\n",
    );
    expect(writeExposition([])).toBe("");
  });

  it("escapes backslash, double quote and line feed in label values, and HELP text", () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    const text = writeExposition([
      {
        type: "counter",
        name: "odd_total",
        help: 'Says "hi"\\n\nthere.',
        samples: [{ labels: { task: 'x\\y"z\nw' }, value: 1 }],
      },
    ]);
    expect(text).toContain('# HELP odd_total Says "hi"\\\\n\\nthere.\n');
    const parsed = parseExposition(text);
    expect(parsed.get("odd_total")?.help).toBe('Says "hi"\\n\nthere.');
    expect(sampleValue(parsed, "odd_total", { task: 'x\\y"z\nw' })).toBe(1);
  });

  it("writes NaN and the infinities as the format spells them", () => {
    const text = writeExposition([
      {
        type: "gauge",
        name: "g",
        help: "G.",
        samples: [
          { labels: { k: "nan" }, value: Number.NaN },
          { labels: { k: "inf" }, value: Number.POSITIVE_INFINITY },
          { labels: { k: "-inf" }, value: Number.NEGATIVE_INFINITY },
        ],
      },
    ]);
    expect(text).toContain('g{k="nan"} NaN\ng{k="inf"} +Inf\ng{k="-inf"} -Inf\n');
  });

  it("refuses invalid metric and label names, a repeated family and a series' own le", () => {
    const family = (name: string, labels: Record<string, string> = {}): MetricFamily => ({
      type: "counter",
      name,
      help: "",
      samples: [{ labels, value: 1 }],
    });
    expect(() => writeExposition([family("9lives")])).toThrow(InvalidOptionError);
    expect(() => writeExposition([family("ok", { "bad-name": "x" })])).toThrow(
      "'bad-name' is not a valid Prometheus label name",
    );
    expect(() => writeExposition([family("ok", { __name__: "x" })])).toThrow(InvalidOptionError);
    expect(() => writeExposition([family("a"), family("a")])).toThrow("given twice");
    const histogram = new Histogram("h", "H.", ["le"], [1]);
    histogram.observe({ le: "x" }, 1);
    expect(() => writeExposition([histogram.family()])).toThrow("own 'le' label");
  });

  it("round-trips arbitrary label values through the parser", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: "binary" }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat({ max: 1_000_000 }), { minLength: 5, maxLength: 5 }),
        (values, counts) => {
          const counter = new Counter("values_total", "V.", ["value", "n"]);
          const histogram = new Histogram("seconds", "S.", ["value", "n"], [1, 10]);
          values.forEach((value, i) => {
            counter.inc({ value, n: String(i) }, counts[i]!);
            histogram.observe({ value, n: String(i) }, counts[i]!);
          });
          const parsed = parseExposition(writeExposition([counter.family(), histogram.family()]));
          values.forEach((value, i) => {
            expect(sampleValue(parsed, "values_total", { value, n: String(i) })).toBe(counts[i]);
            expect(histogramSeries(parsed, "seconds", { value, n: String(i) })?.count).toBe(1);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("Counter and Histogram", () => {
  it("keep labels in their declared order, whatever order they are given in", () => {
    const counter = new Counter("c_total", "C.", ["queue", "task"]);
    counter.inc({ task: "t", queue: "q" });
    counter.inc({ queue: "q", task: "t" }, 2);
    expect(writeExposition([counter.family()])).toContain('c_total{queue="q",task="t"} 3\n');
  });

  it("refuse a missing label, a decrement and unordered bounds", () => {
    const counter = new Counter("c_total", "C.", ["queue"]);
    expect(() => counter.inc({})).toThrow("label 'queue' needs a string value");
    expect(() => counter.inc({ queue: "q" }, -1)).toThrow("only goes up");
    expect(() => new Histogram("h", "H.", [], [1, 1])).toThrow("ascending");
  });
});

describe("formatValue", () => {
  it("writes a fraction to 15 significant digits, integers and the specials as they are", () => {
    expect(formatValue(0.007 + 0.014)).toBe("0.021");
    expect(formatValue(0.1 + 0.2)).toBe("0.3");
    expect(formatValue(2 ** 53 - 1)).toBe("9007199254740991");
    expect(formatValue(1e-12)).toBe("1e-12");
    expect([Number.NaN, Infinity, -Infinity].map(formatValue)).toEqual(["NaN", "+Inf", "-Inf"]);
  });

  it("reads back within a part in 10^14 of any finite number (property)", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
        const back = Number(formatValue(value));
        expect(Math.abs(back - value)).toBeLessThanOrEqual(Math.abs(value) * 1e-14);
      }),
    );
  });
});
