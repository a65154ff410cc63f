/**
 * @module backends/redis/finished-listener
 * Tells `watchFinished` listeners when the scripts publish finished task ids
 * on a queue's channel. One subscription per channel, shared by every
 * listener. After the subscriber reconnects (messages may have been missed)
 * and when the backend disconnects, every listener is told to look again
 * (an empty list).
 *
 * A SUBSCRIBE sent as its connection is killed can go unanswered until the
 * command timeout, which is the caller's whole time bound. So each attempt
 * has a bound of its own, well inside the caller's, and a failed attempt
 * leaves nothing behind: the caller's retry subscribes afresh instead of
 * finding a channel that only looks subscribed.
 */
import type { RedisClient } from "./connections.js";

type Handler = (ids: readonly string[]) => void;

/** How long a channel nobody listens to stays subscribed: callers often wait again right away (one task after another). */
const LINGER_MS = 5000;

/** One subscribed channel: its listeners, the SUBSCRIBE they all wait for, and the timer that unsubscribes it once it has had none for a while. */
interface Channel {
  readonly handlers: Set<Handler>;
  readonly subscribed: Promise<void>;
  linger?: NodeJS.Timeout | undefined;
}

export class FinishedListener {
  readonly #channels = new Map<string, Channel>();
  /** The subscriber connection the handlers are attached to (a reconnected backend makes a new one). */
  #client: RedisClient | undefined;

  /** How long one SUBSCRIBE may go unanswered before the attempt fails as a timed-out command (which the caller retries). */
  readonly #subscribeWithinMs: number;

  /** @param callBoundMs the time bound of the call that listens, retries included. */
  constructor(
    private readonly subscriber: () => RedisClient,
    callBoundMs: number,
  ) {
    // Several attempts fit in the bound; a live server answers a SUBSCRIBE in well under the floor.
    this.#subscribeWithinMs = Math.min(2000, Math.max(250, callBoundMs / 4));
  }

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
      const subscribing: Channel = {
        handlers: new Set(),
        subscribed: subscribeWithin(client, channel, this.#subscribeWithinMs),
      };
      subscribing.subscribed.catch(() => {
        if (this.#channels.get(channel) === subscribing) this.#channels.delete(channel);
      });
      this.#channels.set(channel, subscribing);
      entry = subscribing;
    }
    // Every listener waits for the SUBSCRIBE, not only the first: one that returned earlier
    // could read a task's state before the subscription holds and miss its notification.
    await entry.subscribed;
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

/** SUBSCRIBE, failing as a timed-out command when Redis has not answered within `ms`. */
function subscribeWithin(client: RedisClient, channel: string, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`SUBSCRIBE ${channel}: Command timed out after ${ms} ms`)),
      ms,
    );
  });
  const subscribed = client.subscribe(channel).then(() => undefined);
  return Promise.race([subscribed, timedOut]).finally(() => clearTimeout(timer));
}
