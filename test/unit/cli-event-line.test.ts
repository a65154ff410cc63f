/** `sheppy events` lines: the task column starts at one place whatever the event's type. */
import { task } from "sheppy";
import { describe, expect, it } from "vitest";
import { eventLine } from "../../src/cli/commands/events.js";
import { QUEUE_EVENT_TYPES, type QueueEvent } from "../../src/task/lifecycle-event.js";

const job = task({ name: "event-line.job" }, () => null);

describe("an event's line", () => {
  it("puts the task's name at the same column for every event type", () => {
    const data = job().toJSON();
    const columns = QUEUE_EVENT_TYPES.map((type) => {
      const event = {
        id: "1-1",
        type,
        queue: "q",
        taskId: data.id,
        taskName: data.name,
        attempt: 1,
        at: Date.parse("2030-01-01T00:00:00Z"),
        status: "pending",
      } as QueueEvent;
      return eventLine(event).indexOf(`${data.name} ${data.id}`);
    });
    expect(new Set(columns).size, JSON.stringify(columns)).toBe(1);
    expect(columns[0]).toBeGreaterThan(0);
  });
});
