/**
 * A task of a name this worker does not know is put back for a worker that
 * does: after 1 s, or a tenth of the time this worker has found it unknown
 * once that is longer, at most 1 min and never past the grace; once the
 * grace is over it runs (and fails). The delay follows the time, not the
 * number of put-backs, so a worker that keeps winning the race for a task it
 * cannot run does not push the task further and further from the worker
 * that can.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { UnknownTaskGate } from "../../src/execution/unknown-task-gate.js";
import { task } from "../../src/index.js";
import type { TaskData } from "../../src/task/task-record.js";

const known = task({ name: "unknown-task-gate.known" }, (n: number) => n);
const recordNamed = (name: string, id: string): TaskData => ({
  ...known(1).toJSON(),
  id,
  name,
  status: "processing",
});
const GRACE_MS = 600_000;

describe("the put-back delay of a task of an unknown name", () => {
  it("is 1 s, then a tenth of the time it has been unknown, at most 1 min, never past the grace", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 120_000 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: GRACE_MS }),
        (gaps, graceMs) => {
          const gate = new UnknownTaskGate(graceMs);
          const record = recordNamed("unknown-task-gate.nobody-knows", "t1");
          let now = 1_000_000;
          // The first sighting starts the count.
          const start = now + gaps[0]!;
          let previous = 0;
          for (const gap of gaps) {
            now += gap;
            const unknownFor = now - start;
            // A sighting that old is forgotten (another worker ran the task meanwhile): a new count.
            if (unknownFor > 2 * graceMs + 60_000) return;
            const verdict = gate.check(record, now);
            if (unknownFor >= graceMs) {
              expect(verdict).toBeNull();
              return;
            }
            expect(verdict).not.toBeNull();
            const wanted = Math.min(
              Math.max(1000, Math.round(unknownFor / 10)),
              60_000,
              graceMs - unknownFor,
            );
            expect(verdict!.delayMs).toBe(wanted);
            expect(verdict!.unknownForMs).toBe(unknownFor);
            expect(verdict!.record.status).toBe("scheduled");
            expect(verdict!.record.scheduledAt).toBe(new Date(now + wanted).toISOString());
            // Apart from the cut at the grace's end, the delay never shrinks.
            if (wanted < graceMs - unknownFor)
              expect(verdict!.delayMs).toBeGreaterThanOrEqual(previous);
            previous = verdict!.delayMs;
          }
        },
      ),
    );
  });

  it("put back at once again and again (a worker winning every race) stays at 1 s for the first 10 s", () => {
    const gate = new UnknownTaskGate(GRACE_MS);
    const record = recordNamed("unknown-task-gate.rolling-deploy", "t2");
    const delays: number[] = [];
    for (let now = 0; now < 10_000; now += 1_000) delays.push(gate.check(record, now)!.delayMs);
    expect(delays).toEqual(Array(10).fill(1000));
    expect(gate.check(record, 100_000)!.delayMs).toBe(10_000);
    expect(gate.check(record, 599_000)!.delayMs).toBe(1_000);
    expect(gate.check(record, 600_000)).toBeNull();
  });

  it("a known name, a finished record or a grace of 0 is run, never put back", () => {
    const gate = new UnknownTaskGate(GRACE_MS);
    expect(gate.check(recordNamed(known.name, "t3"), 0)).toBeNull();
    expect(
      gate.check(
        { ...recordNamed("unknown-task-gate.x", "t4"), finishedAt: "2030-01-01T00:00:00.000Z" },
        0,
      ),
    ).toBeNull();
    expect(new UnknownTaskGate(0).check(recordNamed("unknown-task-gate.x", "t5"), 0)).toBeNull();
  });
});
