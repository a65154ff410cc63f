/**
 * `sheppy task reschedule <id>`: an operator runs a scheduled task now, or
 * moves a waiting one to later at another priority, on a SQLite file this
 * process shares; a finished task, an unknown one and contradictory flags
 * get one line that says why.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { add } from "../fixtures/cli/tasks.js";
import { expectOneLineError, json, runCli } from "../support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "sheppy-cli-reschedule-"));
const url = `sqlite://${join(dir, "queue.db")}`;
const HOUR = 3_600_000;

describe("sheppy task reschedule", () => {
  const env = { SHEPPY_BACKEND_URL: url, SHEPPY_QUEUE: "reports" };
  const sheppy = (...args: string[]) => runCli(args, env);
  const queue = new Queue(url, { name: "reports" });

  afterAll(async () => {
    await queue.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs a scheduled task now, then moves it a day ahead at another priority", async () => {
    const report = add(1, 2);
    await queue.schedule(report, 6 * 3600);
    expect(await sheppy("task", "reschedule", report.id)).toMatchObject({
      code: 0,
      stdout: `task ${report.id} runs now (pending)\n`,
    });
    expect((await queue.getTask(report))?.status).toBe("pending");

    const before = Date.now();
    const moved = json<{ status: string; scheduledAt: string; priority: number }>(
      await sheppy(
        "task",
        "reschedule",
        report.id,
        "--delay",
        "1d",
        "--priority",
        "3",
        "--format",
        "json",
      ),
    );
    expect([moved.status, moved.priority]).toEqual(["scheduled", 3]);
    expect(Date.parse(moved.scheduledAt)).toBeGreaterThanOrEqual(before + 24 * HOUR);

    // A new priority alone keeps the time.
    expect((await sheppy("task", "reschedule", report.id, "--priority", "8")).stdout).toBe(
      `task ${report.id} runs at ${moved.scheduledAt} (scheduled)\n`,
    );
    expect((await queue.getTask(report))?.priority).toBe(8);
    const at = new Date(Date.now() + 2 * HOUR).toISOString();
    expect((await sheppy("task", "reschedule", report.id, "--at", at)).stdout).toBe(
      `task ${report.id} runs at ${at} (scheduled)\n`,
    );
  });

  it("refuses a finished task, an unknown one and both --delay and --at, each in one line", async () => {
    const done = add(2, 2);
    await queue.add(done);
    await queue.cancel(done);
    expect(expectOneLineError(await sheppy("task", "reschedule", done.id), 1)).toMatch(
      /status 'cancelled': only a task waiting to run .* can be moved; a retry runs a finished one again/,
    );
    expect(
      expectOneLineError(
        await sheppy("task", "reschedule", "00000000-0000-0000-0000-000000000000"),
      ),
    ).toMatch(/no task 00000000-0000-0000-0000-000000000000/);
    expect(
      expectOneLineError(
        await sheppy(
          "task",
          "reschedule",
          done.id,
          "--delay",
          "5m",
          "--at",
          "2030-01-01T00:00:00Z",
        ),
        2,
      ),
    ).toBe("error: use either --delay or --at, not both (neither: run it now)");
  });
});
