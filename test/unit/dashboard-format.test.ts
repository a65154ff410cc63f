/** How the dashboard writes durations, attempts and long values. */
import { describe, expect, it } from "vitest";
import { attemptOf, formatDuration, formatJson, formatTime } from "../../dashboard/src/format.js";

const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();
const took = (ms: number) => formatDuration(at(0), at(ms));

describe("dashboard formatting", () => {
  it("durations round to whole units before splitting them (never '1 min 60 s')", () => {
    expect(took(140)).toBe("140 ms");
    expect(took(3_240)).toBe("3.2 s");
    expect(took(59_940)).toBe("59.9 s");
    expect(took(59_960)).toBe("1 min 0 s");
    expect(took(119_700)).toBe("2 min 0 s");
    expect(took(125_000)).toBe("2 min 5 s");
    expect(took(25 * 3600_000 + 61_000)).toBe("25 h 1 min");
    expect(formatDuration(null, at(0))).toBe("–");
    expect(formatDuration(at(5), at(0))).toBe("–");
  });

  it("times are UTC", () => {
    expect(formatTime("2026-11-30T16:02:11.123Z")).toBe("2026-11-30 16:02:11");
    expect(formatTime(null)).toBe("–");
  });

  it("a task that has not started is on no attempt yet", () => {
    expect(attemptOf({ retryCount: 0, startedAt: null })).toBe("–");
    expect(attemptOf({ retryCount: 0, startedAt: at(0) })).toBe("1");
    expect(attemptOf({ retryCount: 1, manualRetryCount: 1, startedAt: null })).toBe("3");
  });

  it("a value of megabytes is cut, saying how big it was", () => {
    const text = formatJson(["x".repeat(5 * 1024 * 1024)]);
    expect(text.length).toBeLessThan(21_000);
    expect(text).toMatch(/… cut: 5\.0 MB in all/);
    expect(formatJson({ a: 1 })).toBe('{\n  "a": 1\n}');
  });
});
