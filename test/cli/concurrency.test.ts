/**
 * `task add | schedule` with `--concurrency-key` and `--concurrency-limit`
 * store the task under that key, shown by `task info`; bad values are one
 * line each. On a SQLite file (no server needed).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { expectOneLineError, json, runCli, TASKS } from "../support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "sheppy-cli-concurrency-"));
const url = `sqlite://${join(dir, "queue.db")}`;

describe("sheppy task add --concurrency-key", () => {
  const env = { SHEPPY_BACKEND_URL: url, SHEPPY_QUEUE: "fair" };
  const sheppy = (...args: string[]) => runCli(args, env);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("stores the key and limit; task info shows them; a second task of the key is held", async () => {
    const added = await sheppy(
      "task",
      "add",
      `${TASKS}:add`,
      "--args",
      "[1,2]",
      "--concurrency-key",
      "tenant-1",
      "--concurrency-limit",
      "1",
      "--format",
      "json",
    );
    expect(added.code).toBe(0);
    const record = json(added) as { id: string; concurrencyKey: string; concurrencyLimit: number };
    expect(record).toMatchObject({ concurrencyKey: "tenant-1", concurrencyLimit: 1 });
    const scheduled = await sheppy(
      "task",
      "schedule",
      `${TASKS}:add`,
      "--args",
      "[3,4]",
      "--delay",
      "1h",
      "--concurrency-key",
      "tenant-1",
    );
    expect(scheduled.code).toBe(0);
    const info = await sheppy("task", "info", record.id);
    expect(info.stdout).toMatch(/concurrency\s+key "tenant-1", limit 1/);
  });

  it("a limit without a key, or one that is not a whole number ≥ 1, is a one-line usage error", async () => {
    expect(
      expectOneLineError(
        await sheppy("task", "add", `${TASKS}:add`, "--args", "[1,2]", "--concurrency-limit", "2"),
      ),
    ).toMatch(/--concurrency-limit needs --concurrency-key/);
    expect(
      expectOneLineError(
        await sheppy(
          "task",
          "add",
          `${TASKS}:add`,
          "--args",
          "[1,2]",
          "--concurrency-key",
          "k",
          "--concurrency-limit",
          "two",
        ),
      ),
    ).toMatch(
      /--concurrency-limit must be a whole number from 1 to 2147483647, e\.g\. 2 \(got 'two'\)/,
    );
    expect(
      expectOneLineError(
        await sheppy(
          "task",
          "add",
          `${TASKS}:add`,
          "--args",
          "[1,2]",
          "--concurrency-key",
          "k",
          "--concurrency-limit",
          "0",
        ),
      ),
    ).toMatch(
      // Zero passes a digits check: it is still the flag that is named, not the API option.
      /^error: --concurrency-limit must be a whole number from 1 to 2147483647, e\.g\. 2 \(got '0'\)$/,
    );
  });
});
