/**
 * @module worker/unknown-task-log
 * The log line of a task put back because its name is unknown here, said at
 * most once a minute per queue and task name. A deploy that dropped a task
 * leaves thousands of its tasks queued, each put back again and again while
 * its grace lasts: one line per put-back buried everything else in the log
 * (tens of thousands of lines a minute), while what an operator needs is
 * which names, how many, and when they fail.
 */
import type { Logger } from "../observability/logger.js";
import type { TaskData } from "../task/task-record.js";
import { isResumeTaskName, RESUME_PREFIX } from "../task/workflow-resume-task.js";

/** How often each queue's task name is said, at most. */
const INTERVAL_MS = 60_000;

interface Said {
  /** When the last line about this name was written. */
  readonly at: number;
  /** Put-backs since that line. */
  putBacks: number;
}

export class UnknownTaskLog {
  readonly #said = new Map<string, Said>();

  constructor(
    private readonly logger: Logger,
    private readonly graceMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Notes a put-back of `record` for `delayMs`, unknown here for `unknownForMs`; logs when this name's minute is over. */
  putBack(queue: string, record: TaskData, delayMs: number, unknownForMs: number): void {
    const key = `${queue}\u0000${record.name}`;
    const now = this.now();
    const said = this.#said.get(key);
    if (said && now - said.at < INTERVAL_MS) {
      said.putBacks += 1;
      return;
    }
    this.#forgetOld(now);
    this.#said.set(key, { at: now, putBacks: 0 });
    // A workflow's resume task is named after its workflow: the line names the workflow.
    const resumes = isResumeTaskName(record.name);
    this.logger.warn(
      {
        queue,
        ...(resumes
          ? { workflow: record.name.slice(RESUME_PREFIX.length), workflowId: record.workflowId }
          : {}),
        task: record.name,
        taskId: record.id,
        retryInMs: delayMs,
        unknownForMs,
        failsAfterMs: this.graceMs,
        ...(said ? { putBacksSinceLastLine: said.putBacks } : {}),
      },
      resumes
        ? "no workflow of this name is defined in this worker; its resumes are put back for a worker that defines it — load the workflow's module (sheppy work --tasks takes workflow modules too) (said once a minute per name)"
        : "no task of this name is defined in this worker; its tasks are put back for a worker that knows it — load the module that defines it (sheppy work --tasks) (said once a minute per name)",
    );
  }

  /** Names not said for a while: dropped, so the map holds only names met lately. */
  #forgetOld(now: number): void {
    for (const [key, said] of this.#said) {
      if (now - said.at >= 2 * INTERVAL_MS) this.#said.delete(key);
    }
  }
}
