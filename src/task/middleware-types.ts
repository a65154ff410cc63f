/**
 * @module task/middleware-types
 * The shape of middleware, declared beside task definitions because a task
 * carries its own middleware (and a backend that runs tasks inline carries
 * worker-level middleware for its runner). Composition lives in
 * `execution/middleware.ts`.
 */
import type { Task } from "./task-record.js";

/**
 * What middleware sees of the attempt it wraps. A task's own middleware
 * (`task({ middleware })`) sees that task's arguments (`Args`, as stored: what
 * an `args` schema made of them) and its function's result (`Result`);
 * worker-level middleware wraps every task, so it sees `unknown`.
 */
export interface MiddlewareContext<Args extends readonly unknown[] = unknown[], Result = unknown> {
  /** This attempt's task record. */
  readonly task: Task;
  /** The queue the task came from. */
  readonly queueName: string;
  /** Fires when the attempt times out or the worker shuts down. */
  readonly signal: AbortSignal;
  /** The arguments the function will be called with; assign to change them. */
  args: Args;
  /** The function's result once `next()` has resolved (undefined before); assign to change it. */
  result: Result;
}

/**
 * Wraps an attempt. Typed `Middleware` (no parameters), it fits every task
 * and the worker; a task's own may name that task's arguments and result.
 * @example
 * const timing: Middleware = async (ctx, next) => {
 *   const started = performance.now();
 *   await next();
 *   log.info({ task: ctx.task.name, ms: performance.now() - started });
 * };
 */
export type Middleware<Args extends readonly unknown[] = unknown[], Result = unknown> = (
  ctx: MiddlewareContext<Args, Result>,
  next: () => Promise<void>,
) => unknown;
