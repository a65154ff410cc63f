/**
 * A method that takes a task or a workflow (or its id) refuses anything else
 * in one line that names the method and says what it got: an empty string
 * as such, and the other kind of record with the methods that take it (a
 * workflow passed to a task method, or the reverse, is the usual slip).
 */
import { InvalidTaskError, Queue, step, task, workflow } from "sheppy";
import { describe, expect, it } from "vitest";

const echo = task({ name: "record-refs.echo" }, (n: number) => n);
const flow = workflow({ name: "record-refs.flow" }, function* (n: number) {
  return yield* step(echo(n));
});

function queue(): Queue {
  return new Queue("memory://?instantProcessing=false", { name: "refs" });
}

async function messageOf(call: () => Promise<unknown>): Promise<string> {
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidTaskError);
  return (error as Error).message;
}

describe("task and workflow references", () => {
  it("an empty id is named as such, by the task and the workflow methods", async () => {
    const q = queue();
    for (const call of [
      () => q.getTask(""),
      () => q.cancel(""),
      () => q.waitFor("", { timeout: 1 }),
    ]) {
      expect(await messageOf(call)).toMatch(/expects a Task or a task id; got an empty string$/);
    }
    for (const call of [
      () => q.getWorkflow(""),
      () => q.cancelWorkflow(""),
      () => q.waitForWorkflow("", { timeout: 1 }),
    ]) {
      expect(await messageOf(call)).toMatch(
        /expects a Workflow or a workflow id; got an empty string$/,
      );
    }
  });

  it("a workflow given to a task method, or a task to a workflow method, says which methods take it", async () => {
    const q = queue();
    const started = await q.addWorkflow(flow(2));
    const added = echo(1);
    await q.add(added);
    expect(await messageOf(() => q.waitFor(started as never, { timeout: 1 }))).toMatch(
      /got a Workflow \(workflows go to getWorkflow, waitForWorkflow and cancelWorkflow\)$/,
    );
    expect(await messageOf(() => q.cancel(started as never))).toMatch(/got a Workflow/);
    expect(await messageOf(() => q.waitForWorkflow(added as never, { timeout: 1 }))).toMatch(
      /got a Task \(tasks go to getTask, waitFor and cancel\)$/,
    );
    expect(await messageOf(() => q.getTask(null as never))).toMatch(/got null$/);
    expect(await messageOf(() => q.getTask(42 as never))).toMatch(/got number$/);
  });
});
