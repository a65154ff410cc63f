/**
 * A worker on the machine's clock under fake timers warns that its loops
 * wait for timers only the test advances; on a TestClock, or with real
 * timers, it says nothing.
 */
import { TestClock } from "sheppy/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { systemClock } from "../../src/clock.js";
import { warnIfTimersFaked } from "../../src/worker/fake-timers.js";
import { recordingLogger } from "../support/recording-logger.js";

describe("a worker under fake timers", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("warns on the machine's clock, not on a TestClock, and not with real timers", () => {
    const { logger, lines: records } = recordingLogger();
    warnIfTimersFaked(logger, systemClock);
    expect(records).toEqual([]);
    vi.useFakeTimers();
    warnIfTimersFaked(logger, new TestClock(0));
    expect(records).toEqual([]);
    warnIfTimersFaked(logger, systemClock);
    expect(records.map((r) => [r.level, r.msg])).toEqual([
      [
        "warn",
        expect.stringMatching(/^setTimeout is faked \(vi\.useFakeTimers\(\)\): .*TestClock/),
      ],
    ]);
  });
});
