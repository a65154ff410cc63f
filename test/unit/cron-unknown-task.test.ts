/**
 * A stored cron whose task the worker does not define (removed or renamed
 * by a deploy) goes on adding runs no worker can run: the cron manager says
 * so once per cron, with the command that deletes it.
 */
import { MemoryBackend, Queue, task } from "sheppy";
import { describe, expect, it } from "vitest";
import { unknownTaskWarnings } from "../../src/worker/cron-manager.js";
import { recordingLogger } from "../support/recording-logger.js";

const report = task({ name: "cron-unknown-task.report" }, () => 1);

describe("a cron of a task this worker does not define", () => {
  it("is said once per cron, naming the task and how to delete the cron; a defined one is not", async () => {
    const backend = new MemoryBackend({ instantProcessing: false });
    const queue = new Queue(backend, { name: "cron-unknown-task" });
    await queue.addCron(report(), { every: 60 });
    const [stored] = await backend.getCrons(queue.name);
    const gone = {
      ...stored!,
      deterministicId: "gone",
      id: "cron-of-gone",
      name: "reports.removed",
    };
    const { lines, logger } = recordingLogger();
    const warn = unknownTaskWarnings(logger);
    warn(queue.name, [stored!, gone]);
    warn(queue.name, [stored!, gone]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: "warn",
      fields: { queue: queue.name, cron: "cron-of-gone", task: "reports.removed" },
    });
    expect(lines[0]!.msg).toContain(
      "cron cron-of-gone adds runs of task 'reports.removed', which this worker does not define",
    );
    expect(lines[0]!.msg).toContain("sheppy cron delete cron-of-gone");
    // The same cron in another queue is another cron.
    warn("elsewhere", [gone]);
    expect(lines).toHaveLength(2);
    await queue.close();
  });
});
