/**
 * Reads Prometheus exposition text with a real parser
 * (`parse-prometheus-text-format`), never with our own writer's assumptions.
 * That parser folds every series of a labelled histogram into one and drops
 * their labels, `_sum` and `_count`; so histogram families are handed to it
 * as untyped (their `_bucket`, `_sum` and `_count` lines then parse as plain
 * samples, labels intact) and regrouped here by label set.
 */
import parse from "parse-prometheus-text-format";

export type Labels = Record<string, string>;

export interface ParsedSeries {
  readonly labels: Labels;
  readonly value: number;
}

export interface ParsedHistogramSeries {
  readonly labels: Labels;
  /** `le` (as written) → cumulative count. */
  readonly buckets: Record<string, number>;
  readonly sum: number;
  readonly count: number;
}

export interface ParsedFamily {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram" | "untyped" | "summary";
  readonly samples: ParsedSeries[];
  readonly series: ParsedHistogramSeries[];
}

const number = (text: string | undefined): number => {
  if (text === "+Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  return Number(text);
};

const keyOf = (labels: Labels) => JSON.stringify(Object.entries(labels).sort());

/** Every family of `text`, by name; values as numbers. */
export function parseExposition(text: string): Map<string, ParsedFamily> {
  const histograms = new Set(
    [...text.matchAll(/^# TYPE (\S+) histogram$/gm)].map(([, name]) => name!),
  );
  const rewritten = text.replace(/^# TYPE (\S+) histogram$/gm, "# TYPE $1 untyped");
  const families = new Map<string, ParsedFamily>();
  const parsed = parse(rewritten);
  for (const family of parsed) {
    const part = /^(.*)_(bucket|sum|count)$/.exec(family.name);
    if (part && histograms.has(part[1]!)) continue;
    const type = histograms.has(family.name)
      ? "histogram"
      : (family.type.toLowerCase() as ParsedFamily["type"]);
    families.set(family.name, {
      name: family.name,
      help: family.help,
      type,
      samples: family.metrics.map((m) => ({ labels: m.labels ?? {}, value: number(m.value) })),
      series: [],
    });
  }
  for (const name of histograms) {
    const byLabels = new Map<
      string,
      { labels: Labels; buckets: Record<string, number>; sum: number; count: number }
    >();
    const seriesOf = (labels: Labels) => {
      const key = keyOf(labels);
      let found = byLabels.get(key);
      if (!found) {
        found = { labels, buckets: {}, sum: Number.NaN, count: Number.NaN };
        byLabels.set(key, found);
      }
      return found;
    };
    for (const family of parsed) {
      if (family.name === `${name}_bucket`) {
        for (const m of family.metrics) {
          const { le, ...labels } = m.labels ?? {};
          if (le === undefined) throw new Error(`${name}_bucket sample without le`);
          seriesOf(labels).buckets[le] = number(m.value);
        }
      } else if (family.name === `${name}_sum`) {
        for (const m of family.metrics) seriesOf(m.labels ?? {}).sum = number(m.value);
      } else if (family.name === `${name}_count`) {
        for (const m of family.metrics) seriesOf(m.labels ?? {}).count = number(m.value);
      }
    }
    const family = families.get(name);
    if (!family) throw new Error(`histogram ${name} has no HELP/TYPE family`);
    families.set(name, { ...family, series: [...byLabels.values()] });
  }
  return families;
}

/** The value of `name`'s sample with exactly `labels`, or `undefined`. */
export function sampleValue(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Labels,
): number | undefined {
  const key = keyOf(labels);
  return families.get(name)?.samples.find((s) => keyOf(s.labels) === key)?.value;
}

/** `name`'s histogram series with exactly `labels`, or `undefined`. */
export function histogramSeries(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Labels,
): ParsedHistogramSeries | undefined {
  const key = keyOf(labels);
  return families.get(name)?.series.find((s) => keyOf(s.labels) === key);
}
