/**
 * A task id not found in a queue named by SHEPPY_QUEUE (or -q): the message
 * says where the queue's name came from, since only that queue was looked in.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { buildProgram } from "../../src/cli/program.js";
import { TaskNotFoundError } from "../../src/errors.js";

const ID = "0190f0f0-0000-7000-8000-000000000000";

function info(...args: string[]): Promise<unknown> {
  return buildProgram().parseAsync(["task", "info", ID, "-u", "memory://", ...args], {
    from: "user",
  });
}

describe("task info in a named queue", () => {
  afterEach(() => vi.unstubAllEnvs());

  test("SHEPPY_QUEUE is named, with how to look elsewhere", async () => {
    vi.stubEnv("SHEPPY_QUEUE", "default");
    const attempt = info();
    await expect(attempt).rejects.toThrow(TaskNotFoundError);
    await expect(attempt).rejects.toThrow(
      `queue 'default' has no task ${ID}: the queue is the one SHEPPY_QUEUE names, and no other was looked in (unset SHEPPY_QUEUE to look in every queue, or pass -q <queue>)`,
    );
  });

  test("-q says no other queue was looked in", async () => {
    await expect(info("-q", "emails")).rejects.toThrow(
      `queue 'emails' has no task ${ID}: no other queue was looked in (leave out -q to look in every queue)`,
    );
  });
});
