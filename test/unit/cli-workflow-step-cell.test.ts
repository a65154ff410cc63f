/**
 * `sheppy workflow info`'s step table: a step's error is shown as its
 * outcome only when it failed or crashed; a cancelled step, or one waiting
 * for a retry, that holds an earlier attempt's error says so.
 */
import { task } from "sheppy";
import { describe, expect, it } from "vitest";
import { recordedValues, stepOutcomeCell } from "../../src/cli/commands/workflow.js";
import type { TaskData } from "../../src/task/task-record.js";

const charge = task({ name: "cli-step-cell.charge" }, (n: number) => n);

function step(status: TaskData["status"], error: boolean, finished: boolean): TaskData {
  return {
    ...charge(1).toJSON(),
    status,
    result: status === "completed" ? 1 : null,
    error: error ? { type: "Error", message: "not yet", stack: null, cause: null } : null,
    finishedAt: finished ? new Date(0).toISOString() : null,
  };
}

describe("a workflow step's RESULT / ERROR cell", () => {
  it("says an error is an earlier attempt's unless the step failed or crashed", () => {
    expect(stepOutcomeCell(step("failed", true, true))).toBe("Error: not yet");
    expect(stepOutcomeCell(step("crashed", true, true))).toBe("Error: not yet");
    expect(stepOutcomeCell(step("cancelled", true, true))).toBe("earlier attempt: Error: not yet");
    expect(stepOutcomeCell(step("retrying", true, false))).toBe("earlier attempt: Error: not yet");
    expect(stepOutcomeCell(step("completed", false, true))).toBe("1");
    expect(stepOutcomeCell(step("pending", false, false))).toBe("-");
    expect(stepOutcomeCell(null)).toBe("-");
    const sleeping = {
      ...step("scheduled", false, false),
      scheduledAt: "2030-01-02T00:00:00.000Z",
    };
    expect(stepOutcomeCell(sleeping)).toMatch(/^due 2030-01-02/);
  });
});

describe("a workflow's recorded values (its FIELD row `recorded`)", () => {
  it("lists each value in the order replays hand them back, with its helper, a now() as a time, a thrown one by its error", () => {
    expect(recordedValues([])).toBe("-");
    expect(
      recordedValues([
        { value: Date.parse("2026-12-07T10:00:00Z"), helper: "now" },
        { value: "wanrh5z3yv", helper: "sideEffect" },
        { error: { type: "RangeError", message: "lookup\nfailed" }, helper: "sideEffect" },
        { value: 7 },
      ]),
    ).toBe(
      '0: now() 2026-12-07 10:00:00, 1: sideEffect() "wanrh5z3yv", 2: sideEffect() threw RangeError: lookup ⏎ failed, 3: 7',
    );
  });
});
