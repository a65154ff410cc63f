/**
 * @module worker/shutdown-signals
 * SIGINT/SIGTERM handling: the first signal asks for a graceful stop, any
 * further one forces it. Handlers are removed when the worker stops. A worker
 * that took the signals over also ends the process once it has put running
 * tasks back (see {@link SignalHandlers.endProcess}).
 */
import { constants } from "node:os";
import type { Logger } from "../observability/logger.js";
import { flushTracing } from "../observability/tracing.js";

const SIGNALS = ["SIGINT", "SIGTERM"] as const;
/** Longest the end of the process waits for the application's tracing SDK to hand over its spans. */
export const TRACE_FLUSH_MS = 2000;

/** Workers of this process whose handlers are installed: each receives every signal. */
let installed = 0;
/** The exit code a worker asked the process to end with, once every worker has stopped. */
let pendingExit: number | undefined;

export interface SignalHandlers {
  /** Removes the handlers (again is nothing); ends the process when it was asked to and this was the last worker. */
  remove(): void;
  /**
   * Ends the process after `signal` stopped this worker, which interrupted
   * `interrupted` running tasks. They are back in the queue, but a function
   * that ignores its AbortSignal cannot be stopped from outside: left alive,
   * the process would run it beside another worker's new attempt of the same
   * task. Another worker of the process that took the signal too is let
   * finish its own shutdown first. The code is the shell's for a process
   * ended by `signal` (130 for SIGINT, 143 for SIGTERM), which is what the
   * signal would have done without the handlers. Never resolves.
   */
  endProcess(logger: Logger, signal: NodeJS.Signals, interrupted: number): Promise<never>;
}

/** Installs the handlers. */
export function onShutdownSignals(
  graceful: (signal: NodeJS.Signals) => void,
  force: (signal: NodeJS.Signals) => void,
): SignalHandlers {
  let received = 0;
  const handler = (signal: NodeJS.Signals) => {
    received++;
    if (received === 1) graceful(signal);
    else force(signal);
  };
  for (const signal of SIGNALS) process.on(signal, handler);
  installed++;
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    for (const signal of SIGNALS) process.off(signal, handler);
    installed--;
    if (installed === 0 && pendingExit !== undefined) {
      const code = pendingExit;
      // The application's spans of the last attempts go to its exporter first (briefly bounded).
      void flushTracing(TRACE_FLUSH_MS).then(() => process.exit(code));
    }
  };
  return {
    remove,
    endProcess(logger, signal, interrupted) {
      const exitCode = 128 + (constants.signals[signal] ?? 0);
      logger.warn(
        { signal, interrupted, exitCode },
        `ending the process after ${signal}, once its workers have stopped: the running tasks it interrupted are back in the queue, and their functions must not go on running beside their next attempt (handleSignals)`,
      );
      pendingExit ??= exitCode;
      remove();
      return new Promise<never>(() => undefined);
    },
  };
}
