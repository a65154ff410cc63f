/**
 * @module cli/commands/work-log
 * What `sheppy work` tells its operator: a short banner once the worker runs,
 * one log line per task retry / failure (from the worker's typed events;
 * start and completion lines are the worker's `logTasks`), a line for each served queue that is paused (and
 * each pause or resume noticed later), and a line for each shutdown signal.
 */
import type { Logger } from "pino";
import type { Queue } from "../../queue/queue.js";
import type { Task } from "../../task/task-record.js";
import { isResumeTaskName, RESUME_PREFIX } from "../../task/workflow-resume-task.js";
import { VERSION } from "../../util/version.js";
import { attemptFields } from "../../worker/task-log.js";
import type { Worker } from "../../worker/worker.js";
import { print } from "../output.js";

/** Facts the banner shows. */
export interface Banner {
  readonly backend: string;
  readonly queues: readonly string[];
  readonly loops: readonly string[];
  readonly concurrency: number;
  readonly prefetch: number;
  readonly shutdownTimeout: number;
  readonly tasks: readonly string[];
  readonly workflows: readonly string[];
}

/** Prints the banner: plain lines for people, or one `worker started` record for log collectors. */
export function announce(banner: Banner, logger: Logger, pretty: boolean): void {
  if (!pretty) {
    logger.info({ version: VERSION, ...banner }, "worker started");
    return;
  }
  const rows: [string, string][] = [
    ["backend", banner.backend],
    ["queues", banner.queues.join(", ")],
    ["loops", banner.loops.join(", ")],
    ["concurrency", `${banner.concurrency} (prefetch ${banner.prefetch})`],
    ["tasks", banner.tasks.join(", ") || "none loaded (pass --tasks)"],
    ...(banner.workflows.length > 0
      ? [["workflows", banner.workflows.join(", ")] as [string, string]]
      : []),
    [
      "stop",
      `Ctrl-C lets running tasks finish (up to ${banner.shutdownTimeout} s); twice stops at once`,
    ],
  ];
  print(`sheppy ${VERSION} · worker started`);
  for (const [label, value] of rows) print(`  ${label.padEnd(12)} ${value}`);
}

/**
 * Logs what a workflow's resumes did. Attempts' own lines — every attempt's,
 * or with `--no-log-tasks` its failures and retries only — are the worker's
 * (`logTasks`), written inside the attempt's span.
 */
export function logTaskEvents(worker: Worker, logger: Logger): void {
  worker.on("task:started", ({ queue, task }) => {
    // A workflow's resume is its workflow moving on, not a task of the operator's.
    if (isResume(task)) logger.debug(attemptFields(queue, task.toJSON()), "workflow resumed");
  });
  worker.on("task:completed", ({ queue, task }) => {
    if (isResume(task)) logWorkflowStep(logger, queue, task);
  });
}

const isResume = (task: Task) => isResumeTaskName(task.name);

/**
 * Logs each of `queues` that is paused now — a worker on a paused queue sits
 * idle, which without a word looks like a fault — then each pause and resume
 * noticed later, looking every `everyMs` (one small read per queue). A read
 * that fails is skipped: the worker reports backend outages itself. Returns
 * the function that stops looking.
 */
export function logPauses(queues: readonly Queue[], logger: Logger, everyMs = 2000): () => void {
  const known = new Map<string, boolean>();
  let stopped = false;
  const look = async () => {
    for (const queue of queues) {
      // Once stopped, no read: it could connect the backend again as it shuts down.
      if (stopped) return;
      const paused = await queue.isPaused().catch(() => undefined);
      if (stopped || paused === undefined || known.get(queue.name) === paused) continue;
      const first = !known.has(queue.name);
      known.set(queue.name, paused);
      if (paused) {
        logger.warn(
          { queue: queue.name },
          `queue ${queue.name} is paused: its tasks wait until it is resumed (sheppy queue resume -q ${queue.name})`,
        );
      } else if (!first) {
        // At the level of the pause's warning, so a log of warnings shows the queue running again.
        logger.warn({ queue: queue.name }, `queue ${queue.name} resumed`);
      }
    }
  };
  let running = look();
  const timer = setInterval(() => {
    running = running.then(look);
  }, everyMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/** What a resume did to its workflow: finished it (completed or failed), or asked for more steps. */
function logWorkflowStep(logger: Logger, queue: string, task: Task): void {
  const fields = {
    queue,
    workflowId: task.workflowId,
    workflow: task.name.slice(RESUME_PREFIX.length),
  };
  const result = task.result as {
    workflow?: string;
    error?: { type: string; message: string };
  } | null;
  const status = result?.workflow;
  if (status === "completed") logger.info(fields, "workflow completed");
  else if (status === "failed") {
    const why = result?.error;
    logger.error(
      why ? { ...fields, error: `${why.type}: ${why.message}`, err: loggable(why) } : fields,
      `workflow failed (sheppy workflow info -q ${queue} ${task.workflowId} shows why; sheppy workflow retry -q ${queue} ${task.workflowId} runs it again)`,
    );
  } else logger.debug({ ...fields, status }, "workflow waits for its next steps");
}

/** A stored error's type and message as pino's error serializer reads them (no prototype: `name` gives the type). */
function loggable(why: { type: string; message: string }): object {
  return Object.assign(Object.create(null) as object, {
    type: why.type,
    name: why.type,
    message: why.message,
  });
}

/**
 * Logs each SIGINT/SIGTERM. The command's own stop handlers do the
 * stopping; these only say what happens. Returns a remover.
 */
export function logSignals(logger: Logger, shutdownTimeout: number): () => void {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received++;
    if (received === 1) {
      logger.info(
        { signal },
        `received ${signal}: finishing running tasks (up to ${shutdownTimeout} s); send it again to stop at once`,
      );
    } else {
      logger.warn({ signal }, `received ${signal} again: interrupting running tasks`);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}
