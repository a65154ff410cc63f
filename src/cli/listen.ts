/**
 * @module cli/listen
 * Starts an HTTP server a command serves (the dashboard, the metrics
 * endpoint). A port it cannot take is a usage error naming the address, the
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
      reject(
        new CliUsageError(
          `cannot serve ${what} on ${host}:${port}: ${error.code ?? error.message} (see ${flags})`,
          { cause: error },
        ),
      );
    };
    server.once("error", failed);
    server.listen(port, host, () => {
      server.off("error", failed);
      resolve();
    });
  });
}
