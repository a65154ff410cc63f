/**
 * A `Worker` with `handleSignals: true` in a script of the user's own: once a
 * signal's shutdown has put running tasks back in the queue, the worker ends
 * the process (exit code 128 + the signal's number, and a log line saying
 * why), so the bodies of those tasks cannot go on running beside their next
 * attempt. A signal that interrupted nothing leaves the script to go on.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { exited, spawnTs, waitForOutput } from "../support/processes.js";

const FIXTURE = "test/fixtures/signal-worker.ts";
const TASK_MS = 4000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("handleSignals: the process after a signal", () => {
  const children: ChildProcess[] = [];
  const dirs: string[] = [];

  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function start(
    tasks: number,
    env: Record<string, string> = {},
  ): { child: ChildProcess; dir: string; output: () => string } {
    const dir = mkdtempSync(join(tmpdir(), "sheppy-signals-"));
    dirs.push(dir);
    const child = spawnTs(FIXTURE, {
      TEST_TASKS: String(tasks),
      TEST_TASK_MS: String(TASK_MS),
      TEST_MARKER_DIR: dir,
      ...env,
    });
    children.push(child);
    let text = "";
    child.stdout?.on("data", (chunk: string) => {
      text += chunk;
    });
    child.stderr?.on("data", (chunk: string) => {
      text += chunk;
    });
    return { child, dir, output: () => text };
  }

  test.each([
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ] as const)(
    "%s with running tasks: they are put back, then the process ends at once with %i; their bodies go no further",
    async (signal, code) => {
      const { child, dir, output } = start(3);
      await waitForOutput(child, "running", 30_000);
      const t0 = Date.now();
      child.kill(signal);
      expect(await exited(child), output()).toBe(code);
      // Well before the bodies' 4 s would end, had the process waited for them.
      expect(Date.now() - t0).toBeLessThan(TASK_MS - 1000);
      const text = output();
      expect(text.match(/interrupted a running task at shutdown/g)).toHaveLength(3);
      expect(text).toContain(`ending the process after ${signal}`);
      expect(text).toContain(`"exitCode":${code}`);
      // work() does not return to the script: its code after would run beside the bodies too.
      expect(text).not.toContain("returned");
      await sleep(TASK_MS + 500);
      expect(readdirSync(dir)).toEqual([]);
    },
    30_000,
  );

  test("another worker of the process that took the signal finishes its own shutdown before the process ends", async () => {
    const { child, output } = start(1, { TEST_SECOND_MS: "1500" });
    await waitForOutput(child, "running", 30_000);
    child.kill("SIGTERM");
    expect(await exited(child), output()).toBe(143);
    // The second worker's task ran to its end within its own shutdown timeout, before the exit.
    expect(output()).toContain("finished");
  }, 30_000);

  test("a signal that interrupted nothing: work() returns and the script goes on", async () => {
    const { child, output } = start(0);
    await waitForOutput(child, "ready", 30_000);
    child.kill("SIGTERM");
    expect(await exited(child), output()).toBe(0);
    expect(output()).toContain(
      'returned {"processed":0,"failed":0,"retried":0,"reclaimed":0,"interrupted":0,"handedBack":0}',
    );
    expect(output()).not.toContain("ending the process");
  }, 30_000);
});
