/** TestQueue.processWorkflow: a workflow runs to its end in the test process, retries without waiting. */
import { all, step, task, workflow } from "sheppy";
import { TestClock, TestQueue } from "sheppy/testing";
import { describe, expect, it } from "vitest";

let flakyRuns = 0;
const add = task({ name: "tq-wf.add" }, (a: number, b: number) => a + b);
const flaky = task({ name: "tq-wf.flaky", retry: 2, retryDelay: 3600 }, () => {
  flakyRuns++;
  if (flakyRuns === 1) throw new Error("transient");
  return "ok";
});
const charge = task({ name: "tq-wf.charge" }, (): string => {
  throw new Error("card declined");
});
const delayed = task({ name: "tq-wf.delayed" }, () => "later");
let gatewayDown = true;
const gateway = task({ name: "tq-wf.gateway" }, (amount: number) => {
  if (gatewayDown) throw new Error("gateway down");
  return `charged ${amount}`;
});
const checkout = workflow({ name: "tq-wf.checkout" }, function* (amount: number) {
  const charged = yield* step(gateway(amount));
  if (charged.status !== "completed") throw new Error(`not charged: ${charged.error?.message}`);
  return charged.result;
});

const sequential = workflow({ name: "tq-wf.sequential" }, function* (x: number) {
  const a = yield* step(add(x, 1));
  const b = yield* step(add(a.result!, 10));
  return b.result;
});
const recovering = workflow({ name: "tq-wf.recovering" }, function* () {
  const t = yield* step(flaky());
  return `${t.result}:recovered`;
});
const rollback = workflow({ name: "tq-wf.rollback" }, function* () {
  const [paid] = yield* all([charge()]);
  if (paid.status === "failed") {
    yield* step(add(0, 0));
    return "recovered: rolled back";
  }
  return "paid";
});
const waits = workflow({ name: "tq-wf.waits" }, function* () {
  const t = yield* step(delayed());
  return t.result;
});

describe("TestQueue.processWorkflow", () => {
  it("runs a sequential workflow to its result; processedTasks lists the steps, not the resumes", async () => {
    const queue = new TestQueue();
    const done = await queue.processWorkflow(sequential(2));
    expect([done.status, done.result]).toEqual(["completed", 13]);
    expect(queue.processedTasks.map((t) => t.name)).toEqual(["tq-wf.add", "tq-wf.add"]);
  });

  it("a workflow read back by id is its factory's by is(), and no other's", async () => {
    const queue = new TestQueue();
    const done = await queue.processWorkflow(sequential(2));
    const found = await queue.getWorkflow(done.id);
    expect([sequential.is(found), waits.is(found), sequential.is(null)]).toEqual([
      true,
      false,
      false,
    ]);
    if (sequential.is(found) && found.status === "completed") expect(found.result).toBe(13);
  });

  it("retries a step without waiting for its delay", async () => {
    const queue = new TestQueue();
    const done = await queue.processWorkflow(recovering());
    expect(done.result).toBe("ok:recovered");
    expect(queue.failedTasks).toHaveLength(1);
  });

  it("a failed step takes the error branch", async () => {
    const queue = new TestQueue();
    expect((await queue.processWorkflow(rollback())).result).toBe("recovered: rolled back");
  });

  it("a failed workflow retried runs on from its failed step with processWorkflow", async () => {
    const queue = new TestQueue();
    const failed = await queue.processWorkflow(checkout(5));
    expect([failed.status, failed.error?.message]).toEqual(["failed", "not charged: gateway down"]);
    gatewayDown = false;
    await queue.retryWorkflow(failed);
    const done = await queue.processWorkflow(failed);
    expect([done.status, done.result]).toEqual(["completed", "charged 5"]);
    expect(queue.processedTasks.map((t) => [t.name, t.status])).toEqual([
      ["tq-wf.gateway", "failed"],
      ["tq-wf.gateway", "completed"],
    ]);
  });

  it("runs on a workflow added earlier from where it stands", async () => {
    const queue = new TestQueue({ clock: new TestClock(Date.parse("2030-01-01T00:00:00Z")) });
    const wf = waits();
    const added = await queue.addWorkflow(wf);
    const [stepTask] = await queue.getPending();
    expect(stepTask?.workflowId).toBe(added.id);
    expect(added.status).toBe("running");
    const done = await queue.processWorkflow(wf);
    expect([done.id, done.result]).toEqual([added.id, "later"]);
  });
});
