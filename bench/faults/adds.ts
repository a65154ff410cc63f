/**
 * A producer that keeps adding while a fault happens: one task at a time at a
 * steady pace, each add left to resolve on its own (as independent callers
 * would), so adds made during an outage are all in flight at once. Each add
 * is remembered with when it was made and how it ended, so that acknowledged
 * adds can be checked against what the server holds afterwards.
 */
import type { Queue, Task } from "sheppy";
import type { RunResult } from "./report.js";

export interface AddAttempt {
  readonly task: Task;
  readonly at: number;
  /** `true`/`false` as `add` answered; undefined while unanswered or refused. */
  acknowledged: boolean | undefined;
  refusedWith: string | undefined;
  /** The refusal's message, for the report. */
  message?: string;
  /** When the add was answered (acknowledged or refused). */
  answeredAt?: number;
}

export class SteadyProducer {
  readonly attempts: AddAttempt[] = [];
  readonly #settled: Promise<void>[] = [];

  constructor(private readonly queue: Queue) {}

  /** Adds `tasks` one by one, `everyMs` apart; resolves once all were sent (not answered). */
  async run(tasks: readonly Task[], everyMs: number): Promise<void> {
    for (const task of tasks) {
      const attempt: AddAttempt = {
        task,
        at: Date.now(),
        acknowledged: undefined,
        refusedWith: undefined,
      };
      this.attempts.push(attempt);
      this.#settled.push(
        this.queue.add(task).then(
          (added) => {
            attempt.acknowledged = added;
            attempt.answeredAt = Date.now();
          },
          (error: unknown) => {
            attempt.answeredAt = Date.now();
            attempt.refusedWith = error instanceof Error ? error.name : typeof error;
            attempt.message = error instanceof Error ? error.message : String(error);
          },
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }

  /** Resolves once every add has been answered. */
  async answered(): Promise<void> {
    await Promise.all(this.#settled);
  }

  /** Ids whose add was refused: the caller was told, so a missing one is not lost. */
  refusedIds(): Set<string> {
    return new Set(this.attempts.filter((a) => a.refusedWith !== undefined).map((a) => a.task.id));
  }

  /** How long the adds made between `from` and `to` took to be answered: median, 99th percentile and longest, as text. */
  answerTimes(from: number, to: number): string {
    const times = this.attempts
      .filter((a) => a.at >= from && a.at <= to && a.answeredAt !== undefined)
      .map((a) => a.answeredAt! - a.at)
      .sort((x, y) => x - y);
    if (times.length === 0) return "—";
    const at = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!;
    return `median ${at(0.5)} ms, p99 ${at(0.99)} ms, longest ${times[times.length - 1]} ms`;
  }

  /** Distinct refusal messages, with how often each came. */
  refusals(): Map<string, number> {
    const messages = new Map<string, number>();
    for (const a of this.attempts) {
      if (a.message === undefined) continue;
      const text = `${a.refusedWith}: ${a.message.split("\n")[0]}`;
      messages.set(text, (messages.get(text) ?? 0) + 1);
    }
    return messages;
  }

  /** The adds made between `from` and `to`, and how many of the acknowledged ones `exists` does not find. */
  duringFault(
    from: number,
    to: number,
    exists: (id: string) => boolean,
  ): NonNullable<RunResult["faultAdds"]> {
    const during = this.attempts.filter((a) => a.at >= from && a.at <= to);
    const acknowledged = during.filter((a) => a.acknowledged === true);
    const refused = during.filter((a) => a.refusedWith !== undefined);
    const reasons = new Map<string, number>();
    for (const a of refused) reasons.set(a.refusedWith!, (reasons.get(a.refusedWith!) ?? 0) + 1);
    // `false` for a new id means a resend found its own first send stored: worth seeing, not an error.
    const answeredFalse = during.filter((a) => a.acknowledged === false).length;
    if (answeredFalse > 0) reasons.set("answered false (id already held)", answeredFalse);
    return {
      tried: during.length,
      acknowledged: acknowledged.length,
      refused: refused.length,
      refusedButStored: refused.filter((a) => exists(a.task.id)).length,
      lost: acknowledged.filter((a) => !exists(a.task.id)).length,
      why: [...reasons].map(([name, n]) => `${n} ${name}`).join(", "),
    };
  }
}
