/**
 * @module execution/middleware
 * Onion middleware around one attempt: code before `await next()` sees and may
 * replace the arguments, code after it sees and may replace the result. An
 * exception anywhere fails the attempt (the worker itself carries on).
 */
import { MiddlewareError } from "../errors.js";
import type { Task } from "../task/task-record.js";

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

/** Composes middleware (outermost first) around `core`; `next()` may be called once per layer. */
export function compose(
  middleware: readonly Middleware[],
  core: (ctx: MiddlewareContext) => Promise<void>,
): (ctx: MiddlewareContext) => Promise<void> {
  if (middleware.length === 0) return core;
  return (ctx) => {
    let lastIndex = -1;
    const dispatch = async (index: number): Promise<void> => {
      if (index <= lastIndex)
        throw new MiddlewareError("next() called more than once in one middleware");
      lastIndex = index;
      const layer = middleware[index];
      if (layer === undefined) return core(ctx);
      await layer(ctx, () => dispatch(index + 1));
    };
    return dispatch(0);
  };
}
