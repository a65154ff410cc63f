/**
 * A worker says a task of a name it does not define was put back at most
 * once a minute per queue and name, counting the put-backs in between, so a
 * deploy that dropped a task with thousands queued does not bury the log.
 */
import { describe, expect, it } from "vitest";
import { UnknownTaskLog } from "../../src/worker/unknown-task-log.js";
import { recordingLogger } from "../support/recording-logger.js";

const record = (name: string, id: string, workflowId: string | null = null) =>
  ({ name, id, workflowId }) as never;

describe("UnknownTaskLog", () => {
  it("says each queue's name once a minute, with the put-backs since the last line", () => {
    const { lines, logger } = recordingLogger();
    let now = 0;
    const log = new UnknownTaskLog(logger, 600_000, () => now);
    for (let i = 0; i < 2000; i++) log.putBack("q", record("gone", `t${i}`), 1000, 5_000);
    log.putBack("q", record("other", "o1"), 1000, 0);
    log.putBack("q2", record("gone", "x1"), 1000, 0);
    expect(lines.map((line) => [line.fields.queue, line.fields.task])).toEqual([
      ["q", "gone"],
      ["q", "other"],
      ["q2", "gone"],
    ]);
    expect(lines[0]).toMatchObject({
      level: "warn",
      fields: { taskId: "t0", retryInMs: 1000, unknownForMs: 5_000, failsAfterMs: 600_000 },
    });
    expect(lines[0]!.fields).not.toHaveProperty("putBacksSinceLastLine");

    now = 59_999;
    log.putBack("q", record("gone", "t1"), 1000, 65_000);
    expect(lines).toHaveLength(3);
    now = 60_000;
    log.putBack("q", record("gone", "t2"), 1000, 65_000);
    expect(lines).toHaveLength(4);
    expect(lines[3]!.fields).toMatchObject({ task: "gone", putBacksSinceLastLine: 2000 });
  });

  it("forgets names not met for two minutes: a name met again is said afresh", () => {
    const { lines, logger } = recordingLogger();
    let now = 0;
    const log = new UnknownTaskLog(logger, 600_000, () => now);
    log.putBack("q", record("gone", "a"), 1000, 0);
    now = 200_000;
    log.putBack("q", record("other", "b"), 1000, 0);
    now = 230_000;
    log.putBack("q", record("gone", "c"), 1000, 0);
    expect(lines.map((line) => line.fields.putBacksSinceLastLine)).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("names the workflow, and says to load its module, when what is put back is a workflow's resume", () => {
    const { lines, logger } = recordingLogger();
    const log = new UnknownTaskLog(logger, 600_000, () => 0);
    log.putBack("q", record("workflow:orders.fulfil", "r1", "wf-1"), 1000, 0);
    log.putBack("q", record("orders.charge", "t1"), 1000, 0);
    expect(lines[0]).toMatchObject({
      fields: { workflow: "orders.fulfil", workflowId: "wf-1", task: "workflow:orders.fulfil" },
    });
    expect(lines[0]!.msg).toMatch(
      /^no workflow of this name is defined in this worker; its resumes are put back for a worker that defines it — load the workflow's module \(sheppy work --tasks takes workflow modules too\)/,
    );
    expect(lines[1]!.fields).not.toHaveProperty("workflow");
    expect(lines[1]!.msg).toMatch(/^no task of this name is defined in this worker;/);
  });
});
