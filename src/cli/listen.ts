/**
 * @module cli/listen
 * Starts an HTTP server a command serves (the dashboard, the metrics
 * endpoint). An address it cannot take is one line naming the address, the
 * reason and the flags that choose another, alike for every such command.
 */
import type { Server } from "node:http";
import { CliUsageError } from "../errors.js";

/** Listens on `host:port`; `what` names the server and `flags` the options that set its address. */
export function listenOrExplain(
  server: Server,
  port: number,
  host: string,
  what: string,
  flags: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => {
      const message = `cannot serve ${what} on ${host}:${port}: ${error.code ?? error.message} (see ${flags})`;
      // A port another process holds (or one this user may not take) is the machine's state
      // at run time, not a wrong command line: the same command may work a minute later.
      const runTime = error.code === "EADDRINUSE" || error.code === "EACCES";
      reject(
        runTime
          ? new Error(message, { cause: error })
          : new CliUsageError(message, { cause: error }),
      );
    };
    server.once("error", failed);
    server.listen(port, host, () => {
      server.off("error", failed);
      resolve();
    });
  });
}
