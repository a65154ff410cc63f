/**
 * @module execution/execution-environment
 * Builds the {@link ExecutionEnvironment} attempts of one queue run in, the
 * same way for the worker, the memory backend's instant mode and `TestQueue`.
 * A dependency teardown that throws does not change the attempt's outcome, so
 * it must not go unnoticed either: it is logged, or handed to the caller.
 */
import type { Clock } from "../clock.js";
import { defaultLogger, type Logger } from "../observability/logger.js";
import { DEFAULT_MAX_PAYLOAD_BYTES } from "../task/payload-limit.js";
import type { TaskData } from "../task/task-record.js";
import type { ExecutionEnvironment } from "./execute-task.js";
import type { Middleware } from "./middleware.js";
import type { DependencyOverrides } from "./run-context.js";
import { batchWorkflowReads, type WorkflowSource } from "./workflow-resume.js";

/** What every attempt of a queue shares. */
export interface ExecutionEnvironmentOptions {
  readonly clock: Clock;
  /** Worker-level middleware; runs outside each task's own middleware. */
  readonly middleware: readonly Middleware[];
  readonly dependencyOverrides: DependencyOverrides | undefined;
  /** Warned about each failed dependency teardown (default: the shared default logger). */
  readonly logger?: Logger | undefined;
  /** Takes failed dependency teardowns instead of the logger (tests collect them). */
  readonly onTeardownError?: ((error: unknown, data: TaskData) => void) | undefined;
  /** The queue's payload limit, applied to results and chained tasks' arguments (default 16 MiB). */
  readonly maxPayloadBytes?: number | undefined;
  /** Where resume tasks read their workflows: the queue's backend. */
  readonly workflows?: WorkflowSource | undefined;
}

/**
 * The environment attempts of `queueName` run in.
 * @example
 * const env = createExecutionEnvironment("emails", { clock, middleware: [], dependencyOverrides: undefined, logger });
 * const outcome = await startAttempt(claimed, env).outcome;
 */
export function createExecutionEnvironment(
  queueName: string,
  options: ExecutionEnvironmentOptions,
): ExecutionEnvironment {
  return {
    queueName,
    clock: options.clock,
    middleware: options.middleware,
    dependencyOverrides: options.dependencyOverrides,
    onTeardownError:
      options.onTeardownError ?? logTeardownErrors(options.logger ?? defaultLogger()),
    maxPayloadBytes: options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
    // Resumes claimed together read their workflows together.
    workflows: options.workflows && batchWorkflowReads(options.workflows),
  };
}

function logTeardownErrors(logger: Logger): (error: unknown, data: TaskData) => void {
  return (error, data) =>
    logger.warn({ err: error, taskId: data.id, task: data.name }, "dependency teardown failed");
}
