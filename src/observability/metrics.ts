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
 * The series of one metric, found by its label values in `labelNames` order:
 * one map per label, each value leading to the next label's map. A count
 * runs per task on a worker's hot path, and walking maps costs less than
 * building a key from the values (and no value can be mistaken for another).
 */
class SeriesMap<S> {
  #root = new Map<string, unknown>();
  readonly #all: { labels: Labels; state: S }[] = [];

  constructor(
    private readonly metric: string,
    private readonly labelNames: readonly string[],
    private readonly initial: () => S,
  ) {}

  get(labels: Labels): S {
    const names = this.labelNames;
    let level = this.#root;
    for (let i = 0; i < names.length; i++) {
      const value = labels[names[i]!];
      if (typeof value !== "string") {
        throw new InvalidOptionError(`${this.metric}: label '${names[i]}' needs a string value`);
      }
      let next = level.get(value);
      if (next === undefined) {
        next = i === names.length - 1 ? this.#add(labels) : new Map<string, unknown>();
        level.set(value, next);
      }
      if (i === names.length - 1) return (next as { state: S }).state;
      level = next as Map<string, unknown>;
    }
    // No labels: the metric's one series, kept under the empty value.
    let only = level.get("") as { state: S } | undefined;
    if (!only) {
      only = this.#add(labels);
      level.set("", only);
    }
    return only.state;
  }

  #add(labels: Labels): { labels: Labels; state: S } {
    // Built in labelNames order, so every series of a metric writes its labels alike.
    const ordered = Object.fromEntries(this.labelNames.map((name) => [name, labels[name]!]));
    const series = { labels: ordered, state: this.initial() };
    this.#all.push(series);
    return series;
  }

  entries(filter: SeriesFilter | undefined): { labels: Labels; state: S }[] {
    return filter ? this.#all.filter(({ labels }) => filter(labels)) : [...this.#all];
  }

  clear(): void {
    this.#root = new Map();
    this.#all.length = 0;
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

  /**
   * Makes the series exist at 0 if it does not yet: a rate or `increase()`
   * sees a series' first count only when a scrape saw it before at 0.
   */
  touch(labels: Labels): void {
    this.#series.get(labels);
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
    const bounds = this.bounds;
    let bucket = 0;
    while (bucket < bounds.length && value > bounds[bucket]!) bucket++;
    if (bucket < bounds.length) series.perBucket[bucket]!++;
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
