/**
 * @module observability/metrics
 * In-process counters and histograms, labelled, read out as metric families
 * for `prometheus-text`. Only what Sheppy's own metrics need: values only go
 * up (a scrape computes rates), and a series exists from its first count.
 */
import { InvalidOptionError } from "../errors.js";
import type { CounterFamily, HistogramFamily, Labels } from "./prometheus-text.js";

/** Keeps only the series whose labels pass (e.g. those of some queues). */
export type SeriesFilter = (labels: Labels) => boolean;

/**
 * The series of one metric, keyed by its label values in `labelNames` order,
 * each prefixed by its length (so no value can forge another's key without
 * the cost of JSON on every count).
 */
class SeriesMap<S> {
  readonly #series = new Map<string, { labels: Labels; state: S }>();

  constructor(
    private readonly metric: string,
    private readonly labelNames: readonly string[],
    private readonly initial: () => S,
  ) {}

  get(labels: Labels): S {
    let key = "";
    for (const name of this.labelNames) {
      const value = labels[name];
      if (typeof value !== "string") {
        throw new InvalidOptionError(`${this.metric}: label '${name}' needs a string value`);
      }
      key += `${value.length}:${value}`;
    }
    let found = this.#series.get(key);
    if (!found) {
      const values = this.labelNames.map((name) => labels[name] as string);
      // Built in labelNames order, so every series of a metric writes its labels alike.
      const ordered = Object.fromEntries(this.labelNames.map((name, i) => [name, values[i]!]));
      found = { labels: ordered, state: this.initial() };
      this.#series.set(key, found);
    }
    return found.state;
  }

  entries(filter: SeriesFilter | undefined): { labels: Labels; state: S }[] {
    const all = [...this.#series.values()];
    return filter ? all.filter(({ labels }) => filter(labels)) : all;
  }

  clear(): void {
    this.#series.clear();
  }
}

export class Counter {
  readonly #series: SeriesMap<{ value: number }>;

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[],
  ) {
    this.#series = new SeriesMap(name, labelNames, () => ({ value: 0 }));
  }

  inc(labels: Labels, by = 1): void {
    if (!(by >= 0)) throw new InvalidOptionError(`${this.name}: a counter only goes up`);
    this.#series.get(labels).value += by;
  }

  family(filter?: SeriesFilter): CounterFamily {
    return {
      type: "counter",
      name: this.name,
      help: this.help,
      samples: this.#series
        .entries(filter)
        .map(({ labels, state }) => ({ labels, value: state.value })),
    };
  }

  reset(): void {
    this.#series.clear();
  }
}

export class Histogram {
  readonly #series: SeriesMap<{ perBucket: number[]; sum: number; count: number }>;

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[],
    readonly bounds: readonly number[],
  ) {
    const ascending = bounds.every((b, i) => Number.isFinite(b) && (i === 0 || b > bounds[i - 1]!));
    if (!ascending) {
      throw new InvalidOptionError(`${name}: bucket bounds must be finite and ascending`);
    }
    this.#series = new SeriesMap(name, labelNames, () => ({
      perBucket: bounds.map(() => 0),
      sum: 0,
      count: 0,
    }));
  }

  observe(labels: Labels, value: number): void {
    if (!Number.isFinite(value)) return;
    const series = this.#series.get(labels);
    const bucket = this.bounds.findIndex((bound) => value <= bound);
    if (bucket >= 0) series.perBucket[bucket]!++;
    series.sum += value;
    series.count++;
  }

  family(filter?: SeriesFilter): HistogramFamily {
    return {
      type: "histogram",
      name: this.name,
      help: this.help,
      bounds: this.bounds,
      series: this.#series.entries(filter).map(({ labels, state }) => {
        let running = 0;
        const cumulative = state.perBucket.map((n) => (running += n));
        return { labels, cumulative, sum: state.sum, count: state.count };
      }),
    };
  }

  reset(): void {
    this.#series.clear();
  }
}
