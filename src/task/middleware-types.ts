/**
 * @module task/middleware-types
 * The shape of middleware, declared beside task definitions because a task
 * carries its own middleware (and a backend that runs tasks inline carries
 * worker-level middleware for its runner). Composition lives in
 * `execution/middleware.ts`.
 */
import type { Task } from "./task-record.js";

/** What middleware sees of the attempt it wraps. */
export interface MiddlewareContext {
  /** This attempt's task record. */
  readonly task: Task;
  /** The queue the task came from. */
  readonly queueName: string;
  /** Fires when the attempt times out or the worker shuts down. */
  readonly signal: AbortSignal;
  /** The arguments the function will be called with; assign to change them. */
  args: unknown[];
  /** The function's result once `next()` has resolved; assign to change it. */
  result: unknown;
}

/**
 * Wraps an attempt.
 * @example
 * const timing: Middleware = async (ctx, next) => {
 *   const started = performance.now();
 *   await next();
 *   log.info({ task: ctx.task.name, ms: performance.now() - started });
 * };
 */
export type Middleware = (ctx: MiddlewareContext, next: () => Promise<void>) => unknown;
