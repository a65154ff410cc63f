/**
 * @module execution/middleware
 * Onion middleware around one attempt: code before `await next()` sees and may
 * replace the arguments, code after it sees and may replace the result. An
 * exception anywhere fails the attempt (the worker itself carries on).
 */
import { MiddlewareError } from "../errors.js";
import type { Middleware, MiddlewareContext } from "../task/middleware-types.js";

export type { Middleware, MiddlewareContext } from "../task/middleware-types.js";

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
