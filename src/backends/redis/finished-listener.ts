/**
 * @module backends/redis/finished-listener
 * Wakes `getResults` waiters when the scripts publish finished task ids on a
 * queue's channel. One subscription per channel, shared by every waiter.
 */
import type { Redis } from "ioredis";

type Handler = (ids: readonly string[]) => void;

const LINGER_MS = 5000;

export class FinishedListener {
  readonly #handlers = new Map<string, Set<Handler>>();
  #attached = false;

  constructor(private readonly subscriber: () => Redis) {}

  /** Starts listening (resolves once subscribed); the returned function stops. */
  async listen(channel: string, handler: Handler): Promise<() => void> {
    const client = this.subscriber();
    if (!this.#attached) {
      this.#attached = true;
      client.on("message", (from: string, message: string) => {
        const handlers = this.#handlers.get(from);
        if (!handlers) return;
        const ids = message.split(",");
        for (const h of handlers) h(ids);
      });
    }
    let handlers = this.#handlers.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.#handlers.set(channel, handlers);
      await client.subscribe(channel);
    }
    handlers.add(handler);
    return () => {
      handlers.delete(handler);
      if (handlers.size > 0) return;
      // Keep the subscription a while: callers often wait again right away (one task after another).
      const timer = setTimeout(() => {
        if (handlers.size === 0 && this.#handlers.get(channel) === handlers) {
          this.#handlers.delete(channel);
          void client.unsubscribe(channel).catch(() => undefined);
        }
      }, LINGER_MS);
      timer.unref();
    };
  }
}
