/**
 * @module cli/commands/reach-backend
 * `sheppy work --wait-for-backend <seconds>`: a worker started before its
 * Redis or PostgreSQL answers (a machine booting, containers started
 * together) keeps trying to connect for that long instead of exiting at the
 * first refusal. The first failure is logged once, with its cause; a backend
 * that still cannot be reached when the time is up fails the command with
 * its last error, as without the flag. Without it (0), the first connect
 * fails at once, so a wrong URL is reported in a second.
 */
import type { Logger } from "pino";
import { BackendUnavailableError } from "../../errors.js";
import type { Queue } from "../../queue/queue.js";

/** Pauses between attempts (ms): quick at first, then every few seconds. */
const PAUSES_MS = [250, 500, 1000, 2000, 4000];

/**
 * Connects `queue`'s backend, trying again for up to `waitSeconds` while it
 * cannot be reached; `failing` hears each failed try (when the first began,
 * and the latest error), so a health answer can say what the worker waits for.
 */
export async function reachBackend(
  queue: Queue,
  waitSeconds: number,
  logger: Logger,
  failing?: (since: number, error: unknown) => void,
): Promise<void> {
  if (waitSeconds <= 0) return;
  const deadline = Date.now() + waitSeconds * 1000;
  let since: number | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      await queue.connect();
      // At the level of the warning that it could not, so a log of warnings shows it too.
      if (attempt > 0) logger.warn("reached the backend");
      return;
    } catch (error) {
      // Anything but an unreachable server (a bad URL, a schema another Sheppy migrated) will not pass by waiting.
      if (!(error instanceof BackendUnavailableError)) throw error;
      since ??= Date.now();
      failing?.(since, error);
      const pause = PAUSES_MS[Math.min(attempt, PAUSES_MS.length - 1)]!;
      if (Date.now() + pause > deadline) throw error;
      if (attempt === 0)
        logger.warn(
          { err: error, waitForBackend: waitSeconds },
          `cannot reach the backend yet; trying again for up to ${waitSeconds} s`,
        );
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}
