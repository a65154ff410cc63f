/**
 * @module execution/progress-reporter
 * What a running task reports about itself — `progress(value)` and
 * `log(line)` — kept in memory and written to its stored record now and
 * then, not once per call: the first report is written after a short delay,
 * later ones at most once per interval, one write at a time. So a loop that
 * reports 10,000 times costs a few writes, and whoever reads the task
 * (`getTask`, `sheppy task info`, the dashboard) sees it within about a
 * second. The attempt's outcome carries the last state, so nothing reported
 * is lost when the task ends between two writes. The delays run on the
 * attempt's clock: with a `TestClock`, `advance()` writes what a task
 * reported, as it does everything else that waits, and a test need not sleep.
 */
import type { Clock, Timer } from "../clock.js";
import { InvalidOptionError, SerializationError } from "../errors.js";
import { type JsonValue, toJson } from "../json.js";
import type { TaskData } from "../task/task-record.js";
import { withArticle } from "../util/article.js";
import { jsonBytesOver } from "../util/json-size.js";

/** Delay before the first report is written. */
export const FIRST_WRITE_MS = 200;
/** Least time between two writes. */
export const WRITE_INTERVAL_MS = 1000;
/** Lines kept: the latest ones. */
export const MAX_LOG_LINES = 100;
/** Characters kept of one line (longer ones are cut, with `…`). */
export const MAX_LOG_LINE_CHARS = 2000;
/** Bytes of JSON a progress value may take. */
export const MAX_PROGRESS_BYTES = 64 * 1024;

/**
 * Writes the running record; resolves `false` when the claim is no longer
 * current. `newLines` are the log lines added since the previous write
 * (the latest {@link MAX_LOG_LINES} at most), for the `progress` event.
 */
export type ProgressWriter = (record: TaskData, newLines: readonly string[]) => Promise<boolean>;

/** A JSON copy of a progress value of task `taskName`; throws (to the task) when it is not JSON or too big. */
export function progressValue(value: unknown, taskName: string): JsonValue {
  const where = `progress() in task '${taskName}'`;
  let copy: JsonValue;
  try {
    copy = toJson(value, "value");
  } catch (error) {
    if (!(error instanceof SerializationError)) throw error;
    throw new SerializationError(
      `${where}: ${error.message}`,
      error.cause === undefined ? undefined : { cause: error.cause },
    );
  }
  const bytes = jsonBytesOver(copy, MAX_PROGRESS_BYTES);
  if (bytes !== null) {
    throw new InvalidOptionError(
      `${where}: the value takes ${bytes} bytes of JSON; a progress value may take at most ${MAX_PROGRESS_BYTES} (report a summary, not the data)`,
    );
  }
  return copy;
}

/** A log line as given; anything but a string is refused (to the task) rather than stored as its `String()`. */
export function logLine(line: unknown, taskName: string): string {
  if (typeof line === "string") return line;
  const kind = line === null || line === undefined ? String(line) : withArticle(typeof line);
  throw new InvalidOptionError(
    `log() in task '${taskName}': a log line must be a string, not ${kind} (format it first, e.g. with JSON.stringify)`,
  );
}

export class ProgressReporter {
  #progress: JsonValue | undefined;
  #logs: string[] | undefined;
  /** Lines logged since the last write started. */
  #unwrittenLines = 0;
  #dirty = false;
  #timer: Timer | undefined;
  #writing = false;
  /** The write under way, with what follows it (its `progress` event pushed); `undefined` when none is. */
  #inFlight: Promise<void> | undefined;
  /** When the last write started; `undefined` before the first (a clock may read 0). */
  #lastWriteAt: number | undefined;
  #stopped = false;

  /**
   * @param data the claimed record the reports are written onto.
   * @param write stores it (fenced by the caller's claim).
   * @param onError told when a write fails (the task goes on; the outcome carries the state).
   * @param clock the attempt's clock, which the delays between writes run on.
   */
  constructor(
    private readonly data: TaskData,
    private readonly write: ProgressWriter,
    private readonly onError: (error: unknown) => void,
    private readonly clock: Clock,
  ) {
    this.#progress = data.progress;
    this.#logs = data.logs;
  }

  /** Records the task's progress (any JSON value, copied now). */
  progress(value: unknown): void {
    this.#progress = progressValue(value, this.data.name);
    this.#changed();
  }

  /** Appends a line to the task's log (longer lines are cut, the oldest lines dropped past the limit). */
  log(line: string): void {
    let text = line;
    if (text.length > MAX_LOG_LINE_CHARS) text = `${text.slice(0, MAX_LOG_LINE_CHARS - 1)}…`;
    const logs = this.#logs ? [...this.#logs, text] : [text];
    this.#logs = logs.length > MAX_LOG_LINES ? logs.slice(-MAX_LOG_LINES) : logs;
    this.#unwrittenLines = Math.min(this.#unwrittenLines + 1, MAX_LOG_LINES);
    this.#changed();
  }

  /**
   * Resolves once the write under way, if any, is done. The outcome is
   * settled after it: a write that ended after the settle would announce
   * progress after the task's end.
   */
  written(): Promise<void> | undefined {
    return this.#inFlight;
  }

  /**
   * What was reported since the last write started, as the attempt ends: the
   * log lines added since (`[]` when only the progress value changed), or
   * `undefined` when nothing was. The attempt's end carries them as one last
   * `progress` event, so a listener hears a task's last reports too.
   */
  unwritten(): readonly string[] | undefined {
    return this.#dirty ? this.#newLines() : undefined;
  }

  /** The lines logged since the last write started. */
  #newLines(): string[] {
    return this.#unwrittenLines === 0 ? [] : (this.#logs ?? []).slice(-this.#unwrittenLines);
  }

  /** `record` with what was reported, for the outcome; stops further writes. */
  finish(record: TaskData): TaskData {
    this.#stopped = true;
    this.#timer?.cancel();
    return this.#withReports(record);
  }

  #withReports(record: TaskData): TaskData {
    if (this.#progress === undefined && this.#logs === undefined) return record;
    return {
      ...record,
      ...(this.#progress === undefined ? {} : { progress: this.#progress }),
      ...(this.#logs === undefined ? {} : { logs: this.#logs }),
    };
  }

  #changed(): void {
    this.#dirty = true;
    if (this.#timer || this.#writing || this.#stopped) return;
    const wait =
      this.#lastWriteAt === undefined
        ? FIRST_WRITE_MS
        : Math.max(0, this.#lastWriteAt + WRITE_INTERVAL_MS - this.clock.now());
    // A pending report never keeps the process alive on its own.
    this.#timer = this.clock.setTimer(
      () => {
        this.#inFlight = this.#flush();
      },
      wait,
      { unref: true },
    );
  }

  async #flush(): Promise<void> {
    this.#timer = undefined;
    if (this.#stopped || !this.#dirty) return;
    this.#dirty = false;
    this.#writing = true;
    this.#lastWriteAt = this.clock.now();
    const newLines = this.#newLines();
    this.#unwrittenLines = 0;
    try {
      const current = await this.write(this.#withReports(this.data), newLines);
      // A claim taken over: this attempt's outcome will be discarded, and so are its reports.
      if (!current) this.#stopped = true;
    } catch (error) {
      this.onError(error);
    } finally {
      this.#writing = false;
      this.#inFlight = undefined;
    }
    if (this.#dirty) this.#changed();
  }
}
