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

/** How long a channel nobody listens to stays subscribed: callers often wait again right away (one task after another). */
const LINGER_MS = 5000;

/** One subscribed channel: its listeners, and the timer that unsubscribes it once it has had none for a while. */
interface Channel {
  readonly handlers: Set<Handler>;
  linger?: NodeJS.Timeout | undefined;
}

export class FinishedListener {
  readonly #channels = new Map<string, Channel>();
  /** The subscriber connection the handlers are attached to (a reconnected backend makes a new one). */
  #client: RedisClient | undefined;

  constructor(private readonly subscriber: () => RedisClient) {}

  /** Tells every listener to read again (an empty list). */
  lookAgain(): void {
    for (const { handlers } of this.#channels.values()) for (const h of [...handlers]) h([]);
  }

  /** Starts listening (resolves once subscribed); the returned function stops. */
  async listen(channel: string, handler: Handler): Promise<() => void> {
    const client = this.subscriber();
    if (client !== this.#client) {
      this.#client = client;
      for (const { linger } of this.#channels.values()) clearTimeout(linger);
      this.#channels.clear();
      client.on("message", (from: string, message: string) => {
        const handlers = this.#channels.get(from)?.handlers;
        if (!handlers) return;
        const ids = message.split(",");
        for (const h of [...handlers]) h(ids);
      });
      client.on("ready", () => this.lookAgain());
    }
    let entry = this.#channels.get(channel);
    if (!entry) {
      entry = { handlers: new Set() };
      this.#channels.set(channel, entry);
      await client.subscribe(channel);
    }
    entry.handlers.add(handler);
    const listening = entry;
    return () => this.#stop(client, channel, listening, handler);
  }

  /**
   * Removes `handler`; the channel's last listener leaving starts (or
   * restarts) its one linger timer. The timer holds the channel, never a
   * listener: a caller waiting for one task after another would otherwise
   * keep every finished wait alive for the linger time.
   */
  #stop(client: RedisClient, channel: string, entry: Channel, handler: Handler): void {
    entry.handlers.delete(handler);
    if (entry.handlers.size > 0) return;
    if (entry.linger) {
      entry.linger.refresh();
      return;
    }
    entry.linger = setTimeout(() => {
      entry.linger = undefined;
      if (entry.handlers.size === 0 && this.#channels.get(channel) === entry) {
        this.#channels.delete(channel);
        void client.unsubscribe(channel).catch(() => undefined);
      }
    }, LINGER_MS);
    entry.linger.unref();
  }
}
