/**
 * Lifecycle event bodies: what a writer stores reads back as the same event
 * for any record a task could leave (names, errors, progress values of any
 * shape), a dedupe add's id-less body becomes the full body once the backend
 * writes the id in front, and no stored text — however damaged — makes a
 * reader throw.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { keyedEventBody } from "../../src/backends/event-positions.js";
import { startedBody, startsAsMark } from "../../src/execution/event-publisher.js";
import { task } from "../../src/task/define-task.js";
import {
  endsWithStartedMark,
  eventBody,
  eventBodyWithoutId,
  finishedWorkflowEvent,
  MAX_EVENT_ERROR_CHARS,
  MAX_EVENT_LOG_CHARS,
  MAX_EVENT_RESULT_CHARS,
  readEvent,
  readEventPage,
  STARTED_MARK,
  WRITTEN_EVENT_TYPES,
  type WrittenEventType,
  workflowEventBody,
} from "../../src/task/lifecycle-event.js";
import { TASK_STATUSES, type TaskData } from "../../src/task/task-record.js";
import type { WorkflowData, WorkflowStatus } from "../../src/task/workflow-record.js";

const base = task({ name: "lifecycle.base" }, (n: number) => n)(1).toJSON();

const json = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)));

const record = fc.record({
  id: fc.string({ minLength: 1, maxLength: 40 }),
  name: fc.string({ maxLength: 40 }),
  status: fc.constantFrom(...TASK_STATUSES),
  retryCount: fc.nat(50),
  error: fc.option(fc.record({ type: fc.string(), message: fc.string() })),
  progress: fc.option(json, { nil: undefined }),
  // Long strings too: a result over the event's bound is left out.
  result: fc.option(fc.oneof(json, fc.string({ minLength: 2000, maxLength: 2100 }))),
  nextRetryAt: fc.option(fc.date({ noInvalidDate: true, min: new Date(0) })),
  scheduledAt: fc.option(fc.date({ noInvalidDate: true, min: new Date(0) })),
});

type Generated = typeof record extends fc.Arbitrary<infer T> ? T : never;

function toData(r: Generated): TaskData {
  const data: TaskData = {
    ...base,
    id: r.id,
    name: r.name,
    status: r.status as TaskData["status"],
    retryCount: r.retryCount,
    error: r.error ? { ...r.error, stack: null, cause: null } : null,
    result: r.result,
    nextRetryAt: r.nextRetryAt?.toISOString() ?? null,
    scheduledAt: r.scheduledAt?.toISOString() ?? null,
  };
  if (r.progress !== undefined) data.progress = r.progress;
  return data;
}

/** A body as versions before the list form wrote it: an object with member names. */
function objectBody(
  type: string,
  data: TaskData,
  at: number,
  durationMs: number | undefined,
): string {
  const body: Record<string, unknown> = {
    taskId: data.id,
    type,
    taskName: data.name,
    attempt: data.retryCount + 1,
    at,
    status: data.status,
  };
  if (durationMs !== undefined) body.durationMs = durationMs;
  if (data.error && (type === "failed" || type === "retrying" || type === "crashed"))
    body.error = { type: data.error.type, message: data.error.message };
  if (type === "progress" && data.progress !== undefined) body.progress = data.progress;
  const runAt =
    data.status === "retrying"
      ? data.nextRetryAt
      : data.status === "scheduled"
        ? data.scheduledAt
        : null;
  if (runAt) body.runAt = Date.parse(runAt);
  return JSON.stringify(body);
}

/** A record, an event type, a time and maybe a duration: what a writer writes a body from. */
const writtenEvent = [
  record,
  fc.constantFrom(...WRITTEN_EVENT_TYPES),
  fc.integer({ min: 0, max: 2 ** 45 }),
  fc.option(fc.nat(10_000_000), { nil: undefined }),
] as const;

describe("lifecycle event bodies", () => {
  it("read back as the event written, for any record", () => {
    fc.assert(
      fc.property(...writtenEvent, (r, type, at, durationMs) => {
        const data = toData(r);
        const event = readEvent("q", "7", eventBody(type, data, at, { durationMs }));
        expect(event).toMatchObject({
          id: "7",
          queue: "q",
          type,
          taskId: data.id,
          taskName: data.name,
          attempt: data.retryCount + 1,
          at,
          status: data.status,
        });
        // A field is kept only on the types that carry it (a writer never puts it on others).
        const timed = type === "completed" || type === "failed" || type === "retrying";
        if (durationMs !== undefined) expect(event.durationMs).toBe(timed ? durationMs : undefined);
        if (type === "progress" && data.progress !== undefined)
          expect(event.progress).toEqual(data.progress);
        if (data.error && (type === "failed" || type === "retrying" || type === "crashed"))
          expect(event.error).toEqual({ type: data.error.type, message: data.error.message });
        const due = ["added", "retrying", "crashed", "deferred"].includes(type);
        if (data.status === "retrying" && data.nextRetryAt)
          expect(event.runAt).toBe(due ? Date.parse(data.nextRetryAt) : undefined);
        const fits =
          data.result !== null && JSON.stringify(data.result).length <= MAX_EVENT_RESULT_CHARS;
        if (type === "completed" && fits) expect(event.result).toEqual(data.result);
        else expect(event).not.toHaveProperty("result");
        expect(event.resultLeftOut).toBe(
          type === "completed" && data.result !== null && !fits ? true : undefined,
        );
      }),
    );
  });

  it("a field a body holds for a type that never carries it is left out, so an event is what its type says", () => {
    const body = JSON.stringify([
      "t1",
      "completed",
      "n",
      1,
      5,
      null,
      3,
      { e: ["Error", "not on a completed event"], p: 1, l: ["x"], r: 9, v: "kept" },
    ]);
    const event = readEvent("q", "1", body);
    expect(event).toEqual({
      id: "1",
      type: "completed",
      queue: "q",
      taskId: "t1",
      taskName: "n",
      attempt: 1,
      at: 5,
      status: "completed",
      durationMs: 3,
      result: "kept",
    });
    const started = readEvent(
      "q",
      "2",
      JSON.stringify(["t1", "started", "n", 1, 5, "processing", 3, { r: 9 }]),
    );
    expect(Object.keys(started).sort()).toEqual(
      ["at", "attempt", "id", "queue", "status", "taskId", "taskName", "type"].sort(),
    );
  });

  it("an error message over the bound is cut to it, ending with an ellipsis; one at the bound is whole", () => {
    const failedWith = (message: string) =>
      readEvent(
        "q",
        "1",
        eventBody(
          "failed",
          {
            ...base,
            status: "failed",
            error: { type: "Error", message, stack: null, cause: null },
          },
          5,
        ),
      ).error!.message;
    const atBound = "m".repeat(MAX_EVENT_ERROR_CHARS);
    expect(failedWith(atBound)).toBe(atBound);
    const cut = failedWith(`${atBound}tail`);
    expect(cut).toHaveLength(MAX_EVENT_ERROR_CHARS);
    expect(cut.endsWith("m…")).toBe(true);
    const workflow = {
      id: "w",
      name: "flow",
      status: "failed",
      error: { type: "Error", message: "w".repeat(8000), stack: null, cause: null },
      result: null,
    } as unknown as WorkflowData;
    expect(readEvent("q", "2", finishedWorkflowEvent(workflow, 5)!).error!.message).toHaveLength(
      MAX_EVENT_ERROR_CHARS,
    );
  });

  it("a progress event carries the newest new log lines that fit the bound, in order, and counts the rest", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 2000, unit: "binary" }), { maxLength: 100 }),
        (lines) => {
          const data: TaskData = { ...base, status: "processing" };
          const event = readEvent("q", "1", eventBody("progress", data, 5, { newLines: lines }));
          if (lines.length === 0) {
            expect(event).not.toHaveProperty("logs");
            return;
          }
          const carried = event.logs ?? [];
          expect(carried).toEqual(lines.slice(lines.length - carried.length));
          expect(carried.join("").length).toBeLessThanOrEqual(MAX_EVENT_LOG_CHARS);
          expect(event.logsLeftOut ?? 0).toBe(lines.length - carried.length);
          // Left out only when the next older line would not have fitted.
          if (carried.length < lines.length)
            expect(
              carried.join("").length + lines[lines.length - carried.length - 1]!.length,
            ).toBeGreaterThan(MAX_EVENT_LOG_CHARS);
        },
      ),
    );
    const long = "z".repeat(MAX_EVENT_LOG_CHARS + 10);
    const cut = readEvent(
      "q",
      "1",
      eventBody("progress", { ...base, status: "processing" }, 5, { newLines: ["a", long] }),
    );
    expect(cut.logs).toEqual([`${"z".repeat(MAX_EVENT_LOG_CHARS - 1)}…`]);
    expect(cut.logsLeftOut).toBe(1);
  });

  it("a completed event carries a result up to the bound, says when one was longer, and carries none for chained tasks", () => {
    const completed = (result: TaskData["result"], resultKind?: "task" | "tasks") => {
      const data: TaskData = { ...base, status: "completed", result };
      if (resultKind) data.resultKind = resultKind;
      return readEvent("q", "1", eventBody("completed", data, 5, { durationMs: 3 }));
    };
    expect(completed({ sent: 2, to: ["a"] }).result).toEqual({ sent: 2, to: ["a"] });
    expect(completed(0).result).toBe(0);
    expect(completed("x".repeat(MAX_EVENT_RESULT_CHARS - 2)).result).toHaveLength(
      MAX_EVENT_RESULT_CHARS - 2,
    );
    const long = completed("x".repeat(MAX_EVENT_RESULT_CHARS - 1));
    expect(long).not.toHaveProperty("result");
    expect(long.resultLeftOut).toBe(true);
    expect(completed(null)).not.toHaveProperty("result");
    expect(completed({ id: "child" }, "task")).not.toHaveProperty("result");
    // A workflow's resume task reports the workflow's bookkeeping, not a result of the user's.
    const resume = readEvent(
      "q",
      "2",
      eventBody(
        "completed",
        { ...base, name: "workflow:onboard", status: "completed", result: { steps: 1 } },
        5,
      ),
    );
    expect(resume).not.toHaveProperty("result");
    expect(completed([{ id: "a" }], "tasks")).not.toHaveProperty("result");
  });

  it("a workflow's own events read back with its id, name and status, its error when it failed and its result when it completed", () => {
    const statuses: WorkflowStatus[] = ["running", "completed", "failed", "cancelled"];
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.string({ maxLength: 40 }),
        fc.constantFrom(...statuses),
        fc.option(fc.record({ type: fc.string(), message: fc.string() })),
        fc.integer({ min: 0, max: 2 ** 45 }),
        fc.option(json),
        (id, name, status, error, at, result) => {
          const record = {
            id,
            name,
            status,
            error: error ? { ...error, stack: null, cause: null } : null,
            result,
          } as unknown as WorkflowData;
          const added = readEvent("q", "3", workflowEventBody("workflow:added", record, at));
          expect(added).toMatchObject({ type: "workflow:added", taskId: id, taskName: name, at });
          const end = finishedWorkflowEvent(record, at);
          if (status === "running") {
            expect(end).toBeUndefined();
            return;
          }
          const event = readEvent("q", "4", end!);
          expect(event).toMatchObject({
            type: `workflow:${status}`,
            taskId: id,
            status,
            attempt: 1,
          });
          if (status === "failed" && error) expect(event.error).toEqual(error);
          else expect(event.error).toBeUndefined();
          if (status === "completed" && result !== null) expect(event.result).toEqual(result);
          else expect(event).not.toHaveProperty("result");
        },
      ),
    );
  });

  it("a dedupe add's body, with the id written in front, is the whole body", () => {
    fc.assert(
      fc.property(record, fc.string({ minLength: 1 }), (r, holder) => {
        const data = toData(r);
        const full = keyedEventBody(holder, eventBodyWithoutId(data, 5));
        expect(JSON.parse(full)).toEqual(
          JSON.parse(eventBody("added", { ...data, id: holder }, 5)),
        );
      }),
    );
  });

  it("a body written as an object (earlier versions) reads as the same event as today's list", () => {
    fc.assert(
      fc.property(...writtenEvent, (r, type, at, durationMs) => {
        // Earlier versions wrote no result: compared for a record without one.
        const data = { ...toData(r), result: null };
        const now = eventBody(type, data, at, { durationMs });
        const earlier = objectBody(type, data, at, durationMs);
        expect(readEvent("q", "9", earlier)).toEqual(readEvent("q", "9", now));
        expect(now.length).toBeLessThan(earlier.length);
      }),
    );
  });

  it("no stored text makes a reader throw; what is not an event reads as unreadable", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          json.map((v) => JSON.stringify(v)),
        ),
        (body) => {
          const event = readEvent("q", "1", body);
          expect(event.id).toBe("1");
          expect(typeof event.taskId).toBe("string");
        },
      ),
    );
    expect(readEvent("q", "1", "nope").type).toBe("unreadable");
    expect(readEvent("q", "1", '{"type":"exploded"}').type).toBe("unreadable");
  });
});

describe("the started mark: an attempt's start written as one character before its end", () => {
  /** What the pipeline writes for an attempt of `claimed` started at `startAt` and ended as `end` at `endAt`. */
  function attemptBodies(
    claimed: TaskData,
    end: TaskData,
    type: WrittenEventType,
    startAt: number,
    endAt: number,
    durationMs: number | undefined,
  ): { whole: string[]; marked: string[] } {
    const start = { record: claimed, at: startAt };
    const attempt = claimed.retryCount + 1;
    const endBody = eventBody(type, end, endAt, { attempt, durationMs });
    const whole = [startedBody(start), endBody];
    if (!startsAsMark(start, endAt)) return { whole, marked: whole };
    const marked = [
      STARTED_MARK,
      eventBody(type, end, endAt, { attempt, durationMs, startedBefore: endAt - startAt }),
    ];
    return { whole, marked };
  }

  const page = (bodies: readonly string[]) => bodies.map((body, i) => ({ id: `${i}`, body }));

  it("reads as the whole bodies would, for any attempt and any end", () => {
    fc.assert(
      fc.property(
        record,
        record,
        fc.constantFrom(...WRITTEN_EVENT_TYPES.filter((t) => !t.startsWith("workflow:"))),
        fc.integer({ min: 0, max: 2 ** 45 }),
        fc.integer({ min: -60_000, max: 10_000_000 }),
        fc.option(fc.nat(10_000_000), { nil: undefined }),
        (c, e, type, startAt, ran, durationMs) => {
          const claimed = { ...toData(c), status: "processing" as const };
          const end = { ...toData(e), id: claimed.id, name: claimed.name };
          const { whole, marked } = attemptBodies(
            claimed,
            end,
            type,
            startAt,
            startAt + ran,
            durationMs,
          );
          expect(marked[0]).toBe(STARTED_MARK);
          expect(marked.join("").length).toBeLessThan(whole.join("").length);
          const read = readEventPage("q", page(marked));
          expect(read).toEqual(readEventPage("q", page(whole)));
          // Split over two pages: the mark read with the body that follows its page.
          const [first, second] = page(marked);
          expect([
            ...readEventPage("q", [first!], second),
            ...readEventPage("q", [second!]),
          ]).toEqual(read);
        },
      ),
    );
  });

  it("a start that is not a whole number of ms before its end, or of a record not processing, goes whole", () => {
    const claimed: TaskData = { ...base, status: "processing" };
    expect(startsAsMark({ record: claimed, at: 1.5 }, 3)).toBe(false);
    expect(startsAsMark({ record: { ...claimed, status: "pending" }, at: 1 }, 3)).toBe(false);
    expect(startsAsMark({ record: claimed, at: 1 }, 3)).toBe(true);
  });

  it("a mark with no body after it, or one that says no start, reads as unreadable", () => {
    const completed = eventBody("completed", { ...base, status: "completed" }, 5);
    expect(readEventPage("q", [{ id: "1", body: STARTED_MARK }])[0]!.type).toBe("unreadable");
    expect(readEventPage("q", page([STARTED_MARK, completed]))[0]).toMatchObject({
      id: "0",
      type: "unreadable",
    });
    expect(readEventPage("q", page([STARTED_MARK, STARTED_MARK]))[0]!.type).toBe("unreadable");
    expect(endsWithStartedMark(page([completed, STARTED_MARK]))).toBe(true);
    expect(endsWithStartedMark(page([STARTED_MARK, completed]))).toBe(false);
    expect(endsWithStartedMark([])).toBe(false);
  });
});
