/**
 * @module backends/redis/finished-listener
 * Tells `watchFinished` listeners when the scripts publish finished task ids
 * on a queue's channel. One subscription per channel, shared by every
 * listener. After the subscriber reconnects (messages may have been missed)
 * and when the backend disconnects, every listener is told to look again
 * (an empty list).
 */
import type { RedisClient } from "./connections.js";

type Handler = (ids: readonly string[]) => void;

const LINGER_MS = 5000;

export class FinishedListener {
  readonly #handlers = new Map<string, Set<Handler>>();
  /** The subscriber connection the handlers are attached to (a reconnected backend makes a new one). */
  #client: RedisClient | undefined;

  constructor(private readonly subscriber: () => RedisClient) {}

  /** Tells every listener to read again (an empty list). */
  lookAgain(): void {
    for (const handlers of this.#handlers.values()) for (const h of [...handlers]) h([]);
  }

  /** Starts listening (resolves once subscribed); the returned function stops. */
  async listen(channel: string, handler: Handler): Promise<() => void> {
    const client = this.subscriber();
    if (client !== this.#client) {
      this.#client = client;
      this.#handlers.clear();
      client.on("message", (from: string, message: string) => {
        const handlers = this.#handlers.get(from);
        if (!handlers) return;
        const ids = message.split(",");
        for (const h of [...handlers]) h(ids);
      });
      client.on("ready", () => this.lookAgain());
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
