/** `sheppy task info`: a "next retry" is shown only while a retry waits. */
import { fileURLToPath } from "node:url";
import { task } from "sheppy";
import { describe, expect, it } from "vitest";
import { reportOutcome } from "../../src/cli/commands/task-outcome.js";
import { renderTable, renderTaskDetail, TASK_COLUMNS } from "../../src/cli/output.js";
import type { TaskData } from "../../src/task/task-record.js";

const job = task({ name: "cli-detail.job", retry: 2 }, () => null);

function nextRetryLine(data: TaskData): string {
  const line = renderTaskDetail(data, "q")
    .split("\n")
    .find((row) => row.startsWith("next retry"));
  return line?.replace(/^next retry\s+/, "").trim() ?? "";
}

describe("task info", () => {
  const base = job().toJSON();
  const at = "2030-01-02T03:04:05.000Z";

  it("a pending task's concurrency row says how many of its key's tasks run now, and when they fill the key", () => {
    const keyed = { ...base, concurrencyKey: "tenant-a", concurrencyLimit: 2 };
    const row = (keyRunning?: string[]) =>
      renderTaskDetail(keyed, "q", { keyRunning })
        .split("\n")
        .find((line) => line.startsWith("concurrency"))
        ?.replace(/^concurrency\s+/, "");
    expect(row()).toBe('key "tenant-a", limit 2');
    expect(row([])).toBe('key "tenant-a", limit 2; none of the key\'s tasks runs now');
    expect(row(["a1"])).toBe('key "tenant-a", limit 2; 1 of the key\'s tasks running now (a1)');
    expect(row(["a1", "a2"])).toBe(
      'key "tenant-a", limit 2; 2 of the key\'s tasks running now (a1, a2): it waits for one of their slots',
    );
    expect(row(["a1", "a2", "a3"])).toBe(
      'key "tenant-a", limit 2; 3+ of the key\'s tasks running now (a1, a2, a3): it waits for one of their slots',
    );
  });

  it("shows the next retry of a task waiting for one", () => {
    expect(nextRetryLine({ ...base, status: "retrying", retryCount: 1, nextRetryAt: at })).toBe(
      "2030-01-02 03:04:05",
    );
  });

  it("labels an earlier attempt's error as the last error on a task that has not failed, and a failed task's as its error", () => {
    const error = { type: "Error", message: "upstream said 503", stack: null, cause: null };
    for (const status of ["retrying", "pending", "processing", "completed"] as const) {
      const detail = renderTaskDetail({ ...base, status, retryCount: 1, error }, "q");
      expect(detail, status).toMatch(/^last error\s+Error: upstream said 503$/m);
      expect(detail, status).not.toMatch(/^error\s/m);
    }
    for (const status of ["failed", "crashed", "cancelled"] as const) {
      const detail = renderTaskDetail({ ...base, status, error }, "q");
      expect(detail, status).toMatch(/^error\s+Error: upstream said 503$/m);
    }
    expect(renderTaskDetail({ ...base, status: "pending" }, "q")).toMatch(/^error\s+-$/m);
  });

  it("shows the priority, the progress and the latest log lines, each on one row", () => {
    const logs = Array.from({ length: 12 }, (_, i) => `step ${i}${i === 11 ? "\nmore" : ""}`);
    const detail = renderTaskDetail(
      { ...base, status: "processing", priority: 5, progress: { done: 3, total: 10 }, logs },
      "q",
    );
    expect(detail).toMatch(/^priority\s+5$/m);
    expect(detail).toMatch(/^progress\s+\{"done":3,"total":10\}$/m);
    expect(detail).toMatch(/^log \(last 10 of 12\)\s+step 2$/m);
    expect(detail).toMatch(/^\s+step 11\\nmore$/m);
    expect(detail).not.toContain("step 1\n");
    expect(renderTaskDetail({ ...base, status: "pending" }, "q")).not.toMatch(
      /^(priority|progress|log)/m,
    );
  });

  it("cuts arguments and a result of megabytes, saying how long they are and how to read them whole", () => {
    const big = "x".repeat(3_000_000);
    const detail = renderTaskDetail(
      { ...base, status: "completed", args: [big], result: big },
      "q",
    );
    expect(detail.length).toBeLessThan(5_000);
    expect(detail).toMatch(
      /^args\s+\["x{1997}… \(3,000,004 characters in all; --format json prints them\)$/m,
    );
    expect(detail).toMatch(/^result\s+"x{1998}… \(3,000,002 characters in all/m);
    expect(renderTaskDetail({ ...base, args: ["short"] }, "q")).toMatch(/^args\s+\["short"\]$/m);
  });

  it("shows none for a completed task, or one retried by hand, though the record keeps the time", () => {
    for (const status of ["completed", "pending", "failed"] as const) {
      expect(nextRetryLine({ ...base, status, retryCount: 1, nextRetryAt: at })).toBe("-");
    }
  });
});

describe("task list", () => {
  const base = task({ name: "cli-detail.listed" }, () => null)().toJSON();
  const row = (data: TaskData) => {
    const [header, line] = renderTable([data], TASK_COLUMNS).split("\n");
    const cells = line!.split(/\s{2,}/);
    return Object.fromEntries(header!.split(/\s{2,}/).map((h, i) => [h, cells[i]]));
  };

  it("shows when a scheduled task is due, and no result for an unfinished task", () => {
    const scheduled = row({
      ...base,
      status: "scheduled",
      scheduledAt: "2030-01-02T03:04:05.000Z",
    });
    expect(scheduled.DUE).toBe("2030-01-02 03:04:05");
    expect(scheduled["RESULT / ERROR"]).toBe("-");
    const done = row({
      ...base,
      status: "completed",
      result: 42,
      finishedAt: "2030-01-02T03:05:00.000Z",
    });
    expect(done.DUE).toBe("-");
    expect(done["RESULT / ERROR"]).toBe("42");
    // Finished without a result of its own: `-`, as for an unfinished task, not `null`.
    const cancelled = row({ ...base, status: "cancelled", finishedAt: "2030-01-02T03:05:00.000Z" });
    expect(cancelled["RESULT / ERROR"]).toBe("-");
    const nullResult = row({
      ...base,
      status: "completed",
      result: null,
      finishedAt: "2030-01-02T03:05:00.000Z",
    });
    expect(nullResult["RESULT / ERROR"]).toBe("null");
  });
});

describe("a multi-line error message", () => {
  const base = job().toJSON();
  // A ZodError's message is a JSON list of issues, starting with "[" and a line break.
  const message = '[\n  {\n    "code": "invalid_type",\n    "message": "Expected number"\n  }\n]';
  const failed: TaskData = {
    ...base,
    status: "failed",
    error: { type: "ZodError", message } as TaskData["error"],
  };

  it("is shown whole by task info, a line per row", () => {
    const detail = renderTaskDetail(failed, "q");
    expect(detail).toMatch(/^error\s+ZodError: \[$/m);
    expect(detail).toMatch(/^\s+"code": "invalid_type",$/m);
    expect(detail).toMatch(/^\s+"message": "Expected number"$/m);
    expect(detail).toMatch(/^\s+\]$/m);
  });

  it("is shown whole on the one row of a task list", () => {
    const table = renderTable([failed], TASK_COLUMNS);
    expect(table.split("\n")).toHaveLength(2);
    expect(table).toContain(
      'ZodError: [ ⏎ { ⏎ "code": "invalid_type", ⏎ "message": "Expected number" ⏎ } ⏎ ]',
    );
  });

  it("is whole in the one line a failed --wait or task test ends with", () => {
    let thrown: unknown;
    try {
      reportOutcome({ toJSON: () => failed } as never, "table");
    } catch (error) {
      thrown = error;
    }
    expect((thrown as Error).message).toBe(
      `task ${failed.id} failed: ZodError: [ ⏎ { ⏎ "code": "invalid_type", ⏎ "message": "Expected number" ⏎ } ⏎ ]`,
    );
  });
});

describe("a stored error's stack", () => {
  const base = job().toJSON();
  const frames = (n: number, file: string) =>
    Array.from({ length: n }, (_, i) => `    at step${i} (${file}:${i + 1}:5)`).join("\n");

  it("is shown by task info as its frames, then each cause with its own, a frame per row", () => {
    const failed: TaskData = {
      ...base,
      status: "failed",
      error: {
        type: "Error",
        message: "charge failed",
        stack: `Error: charge failed\n${frames(2, "/app/charge.ts")}`,
        cause: {
          type: "TypeError",
          message: "fetch failed\nsecond line",
          stack: `TypeError: fetch failed\n${frames(1, "/app/http.ts")}`,
          cause: null,
        },
      } as TaskData["error"],
    };
    const rows = renderTaskDetail(failed, "q").split("\n");
    const from = rows.findIndex((row) => row.startsWith("stack"));
    expect(rows.slice(from, from + 4).map((row) => row.trim())).toEqual([
      "stack       at step0 (/app/charge.ts:1:5)",
      "at step1 (/app/charge.ts:2:5)",
      "caused by TypeError: fetch failed",
      "at step0 (/app/http.ts:1:5)",
    ]);
  });

  it("leaves out Sheppy's own frames and Node's, and shows every cause down to the root", () => {
    const own = fileURLToPath(new URL("../../src/execution/attempt-body.ts", import.meta.url));
    const failed: TaskData = {
      ...base,
      status: "failed",
      error: {
        type: "Error",
        message: "gate closed",
        stack: [
          "Error: gate closed",
          "    at openGate (/app/gate.ts:3:9)",
          `    at runMiddlewareAndFunction (${own}:126:39)`,
          `    at thenTearDown (file://${own}:64:14)`,
          "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
          "    at AsyncLocalStorage.run (node:async_hooks:346:14)",
          "    at /app/node_modules/sheppy/dist/execution/execute-task.js:82:73",
        ].join("\n"),
        cause: {
          type: "TypeError",
          message: "no flag file",
          stack: `TypeError: no flag file\n${frames(8, "/app/flags.ts")}`,
          cause: { type: "NonError", message: "root: string cause", stack: null, cause: null },
        },
      } as TaskData["error"],
    };
    const rows = renderTaskDetail(failed, "q").split("\n");
    const from = rows.findIndex((row) => row.startsWith("stack"));
    const shown = rows.slice(from).map((row) => row.replace(/^stack/, "").trim());
    expect(shown.slice(0, 10)).toEqual([
      "at openGate (/app/gate.ts:3:9)",
      "caused by TypeError: no flag file",
      "at step0 (/app/flags.ts:1:5)",
      "at step1 (/app/flags.ts:2:5)",
      "at step2 (/app/flags.ts:3:5)",
      "at step3 (/app/flags.ts:4:5)",
      "at step4 (/app/flags.ts:5:5)",
      "caused by NonError: root: string cause",
      "… 3 more frames (--format json prints them)",
      expect.stringMatching(/^created/),
    ]);
  });

  it("is cut after a few frames per error, saying how many more there are and where to read them", () => {
    const failed: TaskData = {
      ...base,
      status: "failed",
      error: {
        type: "RangeError",
        message: "deep",
        stack: `RangeError: deep\n${frames(20, "/app/deep.ts")}`,
        cause: null,
      } as TaskData["error"],
    };
    const detail = renderTaskDetail(failed, "q");
    expect(detail).toContain("at step4 (/app/deep.ts:5:5)");
    expect(detail).not.toContain("at step5 ");
    expect(detail).toMatch(/^\s+… 15 more frames \(--format json prints them\)$/m);
    // A record with no stack (a crash, a thrown value that is not an Error) has no stack row.
    const plain = renderTaskDetail(
      { ...failed, error: { ...failed.error!, stack: null } as TaskData["error"] },
      "q",
    );
    expect(plain).not.toMatch(/^stack/m);
  });
});

describe("an AggregateError", () => {
  const base = job().toJSON();
  it("shows its inner errors, one per row, a few of them, then how many more", () => {
    const errors = Array.from({ length: 7 }, (_, i) => ({
      type: i % 2 ? "TypeError" : "Error",
      message: `mirror ${i} down\nsecond line`,
    }));
    const failed: TaskData = {
      ...base,
      status: "failed",
      error: {
        type: "AggregateError",
        message: "All promises were rejected",
        stack: null,
        cause: null,
        props: { errors },
      } as TaskData["error"],
    };
    const rows = renderTaskDetail(failed, "q").split("\n");
    const from = rows.findIndex((row) => row.startsWith("errors"));
    expect(rows.slice(from, from + 6).map((row) => row.replace(/^errors/, "").trim())).toEqual([
      "1. Error: mirror 0 down",
      "2. TypeError: mirror 1 down",
      "3. Error: mirror 2 down",
      "4. TypeError: mirror 3 down",
      "5. Error: mirror 4 down",
      "… 2 more (--format json prints them)",
    ]);
  });
});
