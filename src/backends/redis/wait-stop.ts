/**
 * @module backends/redis/wait-stop
 * Ending a blocked wait (a claim's `BLPOP`, an event read's `XREAD BLOCK`)
 * when its caller's signal aborts. Redis cannot cancel a blocked command
 * from outside without knowing its connection, so the wait also blocks on a
 * key of its own, and an abort writes to that key. The key carries the
 * queue's hash tag, so this works on a cluster too; it expires soon after,
 * in case the wait had ended before the write.
 */
import type { RedisSession } from "./session.js";

/** How long an aborted wait's key is kept, should the wait have ended before it was written. */
const STOP_KEPT_MS = 10_000;

export interface WaitStop {
  /** The key the wait also blocks on; absent when there is no signal. */
  readonly key: string | undefined;
  /** Stops listening for the abort (the wait is over). */
  release(): void;
}

/**
 * A key under `base` (one of the queue's keys) that is written when `signal`
 * aborts: pushed to when the wait is on lists, appended to when on streams.
 */
export function waitStop(
  session: RedisSession,
  base: string,
  signal: AbortSignal | undefined,
  kind: "list" | "stream",
): WaitStop {
  if (!signal) return { key: undefined, release: () => {} };
  const key = `${base}:stop:${session.requestToken()}`;
  const aborted = () => {
    if (!session.isConnected) return;
    const write = session.connections.main.multi();
    if (kind === "list") write.rpush(key, "1");
    else write.xadd(key, "*", "stop", "1");
    write
      .pexpire(key, STOP_KEPT_MS)
      .exec()
      .catch(() => {
        // The wait ends by its own timeout instead.
      });
  };
  signal.addEventListener("abort", aborted, { once: true });
  return { key, release: () => signal.removeEventListener("abort", aborted) };
}
