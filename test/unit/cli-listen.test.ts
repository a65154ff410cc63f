/**
 * A port another server holds is a run-time failure (exit 1) for the
 * dashboard and the metrics endpoint alike, said in one line with the flags.
 */
import { createServer } from "node:http";
import { describe, expect, test } from "vitest";
import { listenOrExplain } from "../../src/cli/listen.js";
import { EXIT, reportError } from "../../src/cli/report-error.js";

describe("listenOrExplain", () => {
  test("a port in use fails at run time, not as a usage error", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as { port: number };
    const server = createServer();
    try {
      const error = await listenOrExplain(
        server,
        port,
        "127.0.0.1",
        "metrics",
        "--metrics-port",
      ).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toBe(
        `cannot serve metrics on 127.0.0.1:${port}: EADDRINUSE (see --metrics-port)`,
      );
      const write = process.stderr.write;
      process.stderr.write = () => true;
      try {
        expect(reportError(error, false)).toBe(EXIT.failure);
      } finally {
        process.stderr.write = write;
      }
    } finally {
      server.close();
      taken.close();
    }
  });
});
