/**
 * @module observability/prometheus-text
 * Writes metric families in the Prometheus text exposition format, version
 * 0.0.4 — what every Prometheus server, agent and prom-client-based scraper
 * reads. Hand-written rather than taken from prom-client: the format is a few
 * line shapes, and prom-client would bring a dependency and its own global
 * registry into every application that imports Sheppy.
 */
import { InvalidOptionError } from "../errors.js";

/** The content type of {@link writeExposition}'s text. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Label names to values; the names follow the metric's own `labelNames` order when written. */
export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

export interface CounterFamily {
  readonly type: "counter";
  readonly name: string;
  readonly help: string;
  readonly samples: readonly Sample[];
}

export interface GaugeFamily {
  readonly type: "gauge";
  readonly name: string;
  readonly help: string;
  readonly samples: readonly Sample[];
}

/** One labelled series of a histogram. */
export interface HistogramSeries {
  readonly labels: Labels;
  /** Observations at or below each of the family's bounds, cumulative (as Prometheus counts them). */
  readonly cumulative: readonly number[];
  readonly sum: number;
  readonly count: number;
}

export interface HistogramFamily {
  readonly type: "histogram";
  readonly name: string;
  readonly help: string;
  /** Upper bounds, ascending, without `+Inf` (the writer adds it from `count`). */
  readonly bounds: readonly number[];
  readonly series: readonly HistogramSeries[];
}

export type MetricFamily = CounterFamily | GaugeFamily | HistogramFamily;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
// `__` is reserved for Prometheus' own labels; `le` is the bucket label.
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A label value as the format quotes it: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** HELP text escapes only backslash and line feed (a quote is literal there). */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/**
 * A sample value: Go's float syntax for the infinities and NaN, plain numbers
 * otherwise — a fraction to 15 significant digits, so a sum of seconds reads
 * `0.021`, not the `0.020999999999999998` its additions left.
 */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(15)));
}

function labelText(labels: Labels, extra?: readonly [string, string]): string {
  const pairs = Object.entries(labels);
  if (extra) pairs.push([extra[0], extra[1]]);
  if (pairs.length === 0) return "";
  for (const [name] of pairs) {
    if (!LABEL_NAME.test(name) || name.startsWith("__")) {
      throw new InvalidOptionError(`'${name}' is not a valid Prometheus label name`);
    }
  }
  return `{${pairs.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(",")}}`;
}

function writeFamily(family: MetricFamily, lines: string[]): void {
  if (!METRIC_NAME.test(family.name)) {
    throw new InvalidOptionError(`'${family.name}' is not a valid Prometheus metric name`);
  }
  lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
  lines.push(`# TYPE ${family.name} ${family.type}`);
  if (family.type !== "histogram") {
    for (const sample of family.samples) {
      lines.push(`${family.name}${labelText(sample.labels)} ${formatValue(sample.value)}`);
    }
    return;
  }
  for (const series of family.series) {
    if ("le" in series.labels) {
      throw new InvalidOptionError(`a histogram's series cannot have its own 'le' label`);
    }
    family.bounds.forEach((bound, i) => {
      const le = labelText(series.labels, ["le", formatValue(bound)]);
      lines.push(`${family.name}_bucket${le} ${formatValue(series.cumulative[i] ?? 0)}`);
    });
    const inf = labelText(series.labels, ["le", "+Inf"]);
    lines.push(`${family.name}_bucket${inf} ${formatValue(series.count)}`);
    lines.push(`${family.name}_sum${labelText(series.labels)} ${formatValue(series.sum)}`);
    lines.push(`${family.name}_count${labelText(series.labels)} ${formatValue(series.count)}`);
  }
}

/**
 * The exposition text of `families`, in the order given: HELP and TYPE lines,
 * then one line per sample (a histogram: its buckets, `_sum` and `_count`).
 * A family with no samples is still announced, so dashboards find the name.
 * @example
 * writeExposition([{ type: "counter", name: "jobs_total", help: "Jobs.", samples: [{ labels: { queue: "a" }, value: 3 }] }]);
 * // # HELP jobs_total Jobs.\n# TYPE jobs_total counter\njobs_total{queue="a"} 3\n
 */
export function writeExposition(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const family of families) {
    // Prometheus refuses a scrape that repeats a family.
    if (seen.has(family.name)) {
      throw new InvalidOptionError(`metric family '${family.name}' is given twice`);
    }
    seen.add(family.name);
    writeFamily(family, lines);
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}
