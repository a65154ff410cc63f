/**
 * The HTTP API's handler made from a URL owns the backend it made:
 * `handler.close()` disconnects it, so an app that shuts its server down
 * ends instead of being held alive by the handler's connection.
 */
import { describe, expect, it } from "vitest";
import { fileKey } from "../../support/isolation.js";
import { exited, outputOf, spawnTs, waitForOutput } from "../../support/processes.js";
import { REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const available = await requireService("Redis", REDIS_URL);
const url = `${REDIS_URL}?prefix=${fileKey(import.meta.url)}`;

describe.skipIf(!available)("redis: closing the HTTP API's handler", () => {
  it("a handler made from a URL, closed, lets the process end by itself", async () => {
    const child = spawnTs("test/fixtures/http-handler-close.ts", {
      TEST_REDIS_URL: url,
      CLOSE_HANDLER: "1",
    });
    const output = await outputOf(child);
    expect(output.stdout.trim().split("\n")).toEqual(["200", "closed"]);
    expect(output.code).toBe(0);
  }, 30_000);

  it("not closed, its connection keeps the process alive (what close() is for)", async () => {
    const child = spawnTs("test/fixtures/http-handler-close.ts", { TEST_REDIS_URL: url });
    const output = outputOf(child);
    // From the end of its code, not from the spawn: a loaded machine takes seconds to start tsx.
    await waitForOutput(child, "closed", 20_000);
    const ended = await Promise.race([
      exited(child).then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 3000)),
    ]);
    child.kill("SIGKILL");
    expect(ended).toBe(false);
    expect((await output).stdout).toContain("closed");
  }, 30_000);
});
