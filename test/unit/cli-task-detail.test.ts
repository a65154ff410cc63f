/** `sheppy task info`: a "next retry" is shown only while a retry waits. */
import { task } from "sheppy";
import { describe, expect, it } from "vitest";
import { renderTaskDetail } from "../../src/cli/output.js";
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

  it("shows the next retry of a task waiting for one", () => {
    expect(nextRetryLine({ ...base, status: "retrying", retryCount: 1, nextRetryAt: at })).toBe(
      "2030-01-02 03:04:05",
    );
  });

  it("shows none for a completed task, or one retried by hand, though the record keeps the time", () => {
    for (const status of ["completed", "pending", "failed"] as const) {
      expect(nextRetryLine({ ...base, status, retryCount: 1, nextRetryAt: at })).toBe("-");
    }
  });
});
