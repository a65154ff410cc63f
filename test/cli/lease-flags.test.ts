/**
 * `sheppy work --lease-timeout` and `--heartbeat-interval`: a worker's lease
 * and renewal period from the command line (a longer lease for tasks that
 * block the event loop), checked as the Worker checks them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { spin } from "../fixtures/cli/spin-tasks.js";
import { nap } from "../fixtures/cli/tasks.js";
import { expectOneLineError, runCli, TASKS } from "../support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "sheppy-cli-lease-"));
const url = `sqlite://${join(dir, "queue.db")}`;

describe("sheppy work --lease-timeout / --heartbeat-interval", () => {
  const env = {
    SHEPPY_BACKEND_URL: url,
    SHEPPY_QUEUE: "leases",
    SHEPPY_TASKS: `${TASKS},test/fixtures/cli/spin-tasks.ts`,
  };
  const sheppy = (...args: string[]) => runCli(args, env);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reach the worker: a lease of 1 s hears of a task blocking the event loop for 1.5 s, the default of 20 s does not", async () => {
    const queue = new Queue(url, { name: "leases" });
    try {
      for (const flags of [["--lease-timeout", "1", "--heartbeat-interval", "0.2"], []]) {
        // A nap after the spin keeps the run going until the lease keeper's next look.
        await queue.add([spin(1500), nap(800)]);
        const run = await sheppy(
          "work",
          "--oneshot",
          "--concurrency",
          "1",
          "--log-format",
          "json",
          ...flags,
        );
        expect(run.code, run.stderr).toBe(0);
        const blocked = /event loop was blocked/.test(run.stdout + run.stderr);
        expect(blocked, flags.join(" ") || "defaults").toBe(flags.length > 0);
      }
      expect((await queue.stats()).completed).toBe(4);
    } finally {
      await queue.close();
    }
  });

  it("bad values are one-line errors: not a positive number, or a renewal no shorter than the lease", async () => {
    expect(expectOneLineError(await sheppy("work", "--lease-timeout", "0"), 2)).toMatch(
      /--lease-timeout.*It must be a number of seconds > 0/,
    );
    expect(expectOneLineError(await sheppy("work", "--heartbeat-interval", "soon"), 2)).toMatch(
      /--heartbeat-interval.*It must be a number of seconds > 0/,
    );
    expect(expectOneLineError(await sheppy("work", "--heartbeat-interval", "30"))).toMatch(
      /heartbeatInterval \(30s\) must be shorter than leaseTimeout \(20s\)/,
    );
  });
});
