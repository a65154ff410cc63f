/**
 * The CLI prints stored text (error messages, log lines, results) that a
 * task wrote: escape sequences and carriage returns in it are shown as
 * escapes, never sent to the terminal, and each event or table row stays on
 * one line, whatever the text holds.
 */
import fc from "fast-check";
import { task } from "sheppy";
import { describe, expect, it } from "vitest";
import { eventLine } from "../../src/cli/commands/events.js";
import {
  renderTable,
  renderTaskDetail,
  TASK_COLUMNS,
  visibleControls,
} from "../../src/cli/output.js";
import type { QueueEventOf } from "../../src/task/lifecycle-event.js";

const job = task({ name: "cli-controls.job" }, () => null);
const base = job().toJSON();
const hostile = "line1\nline2 \u001b[31mRED\u001b[0m\r overwritten\u0007 \u009b1J";
/** A control character other than a line break or a tab. */
const isRawControl = (char: string): boolean => {
  const code = char.charCodeAt(0);
  return (code < 0x20 && code !== 0x0a && code !== 0x09) || (code >= 0x7f && code <= 0x9f);
};
const rawControls = (text: string): string[] => [...text].filter(isRawControl);

/** What every event of these tests shares. */
const common = {
  id: "1-1",
  queue: "q",
  taskId: base.id,
  taskName: base.name,
  attempt: 1,
  at: Date.parse("2030-01-01T00:00:00Z"),
};

const failedEvent: QueueEventOf<"failed"> = {
  ...common,
  type: "failed",
  status: "failed",
  error: { type: "Error", message: hostile },
};

describe("stored text printed by the CLI", () => {
  it("an event's error is one line, its escapes and carriage returns shown, not sent", () => {
    const line = eventLine(failedEvent);
    expect(line).not.toContain("\n");
    expect(rawControls(line)).toEqual([]);
    expect(line).toContain("line1 ⏎ line2 \\x1b[31mRED\\x1b[0m\\x0d overwritten\\x07 \\x9b1J");
  });

  it("a long result in an event is cut, JSON escapes its control characters", () => {
    const line = eventLine({
      ...common,
      type: "completed",
      status: "completed",
      result: "\u001b".repeat(400),
    });
    expect(rawControls(line)).toEqual([]);
    expect(line.length).toBeLessThan(400);
  });

  it("a progress event's log lines: the last one shown on the event's line, its control characters as escapes, the others counted", () => {
    const line = eventLine({
      ...common,
      type: "progress",
      status: "processing",
      logs: ["first", hostile],
      logsLeftOut: 3,
    });
    expect(line).not.toContain("\n");
    expect(rawControls(line)).toEqual([]);
    expect(line).toContain("log line1 ⏎ line2 \\x1b[31mRED");
    expect(line).toContain("(and 4 earlier lines)");
    const one = eventLine({ ...common, type: "progress", status: "processing", logs: ["a", "b"] });
    expect(one).toContain("log b (and 1 earlier line)");
  });

  it("task list and task info show an error's and a log line's control characters as escapes", () => {
    const failed = {
      ...base,
      status: "failed" as const,
      finishedAt: "2030-01-01T00:00:00.000Z",
      error: { type: "Error", message: hostile, stack: null, cause: null },
      logs: [hostile],
    };
    for (const text of [renderTable([failed], TASK_COLUMNS), renderTaskDetail(failed, "q")]) {
      expect(rawControls(text)).toEqual([]);
      expect(text).toContain("\\x1b[31mRED");
    }
  });

  it("visibleControls leaves every other character as it is and hides every control one", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        const shown = visibleControls(text);
        expect(rawControls(shown)).toEqual([]);
        const kept = [...text].filter((c) => !isRawControl(c)).join("");
        expect(shown.replace(/\\x[0-9a-f]{2}/g, "")).toBe(kept.replace(/\\x[0-9a-f]{2}/g, ""));
      }),
    );
  });
});
