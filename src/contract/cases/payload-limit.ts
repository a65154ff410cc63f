/**
 * The payload limit (`maxPayloadBytes`): arguments over it are refused when
 * added, before anything is stored; a result, or a chained task's arguments,
 * over it fail the attempt instead of being stored. Sizes are bytes of the
 * value's JSON text in UTF-8.
 */

import { describe, expect, it } from "vitest";
import {
  PayloadTooLargeError,
  Queue,
  sideEffect,
  step,
  task,
  type Workflow,
  workflow,
} from "../../index.js";
import type { ContractHarness } from "../harness.js";

const echo = task({ name: "payload-limit.echo" }, (text: string) => text);
const repeat = task(
  { name: "payload-limit.repeat", retry: 2, retryDelay: 0 },
  (char: string, count: number) => char.repeat(count),
);
/** Chains an echo of its text twice over: the child's arguments are about twice the parent's. */
const chainEcho = task(
  { name: "payload-limit.chainEcho", retry: 2, retryDelay: 0 },
  (text: string) => echo(text + text),
);

/** Workflows that would store `n` bytes after their first step: as result, side effect, or a later step's arguments. */
const bigResult = workflow({ name: "payload-limit.big-result" }, function* (n: number) {
  yield* step(echo("a"));
  return "r".repeat(n);
});
const bigEffect = workflow({ name: "payload-limit.big-effect" }, function* (n: number) {
  yield* step(echo("b"));
  const value = yield* sideEffect(() => "s".repeat(n));
  return value.length;
});
const bigLaterStep = workflow({ name: "payload-limit.big-later-step" }, function* (n: number) {
  yield* step(echo("c"));
  return (yield* step(echo("x".repeat(n)))).result;
});

/** Bytes of `["<text>"]`, the argument list of `echo(text)`, for ASCII text. */
const argsBytes = (text: string) => text.length + 4;

export function payloadLimitCases(h: ContractHarness): void {
  describe("payload limit", () => {
    /** A queue on this test's backend with a small limit of its own. */
    const limited = (maxPayloadBytes: number) => {
      const base = h.queue();
      return new Queue(base.backend, { name: base.name, maxPayloadBytes });
    };

    it("arguments over the default limit of 16 MiB are refused with PayloadTooLargeError; nothing is stored", async () => {
      const queue = h.queue();
      expect(queue.maxPayloadBytes).toBe(16 * 1024 * 1024);
      const big = echo("x".repeat(16 * 1024 * 1024));
      const error = await queue.add(big).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PayloadTooLargeError);
      expect((error as PayloadTooLargeError).bytes).toBe(argsBytes("x".repeat(16 * 1024 * 1024)));
      expect((error as Error).message).toMatch(
        /^queue\.add\(\): the arguments of task 'payload-limit\.echo' \(id [0-9a-f-]{36}\): 16,777,220 bytes of JSON, over the limit of 16,777,216 \(maxPayloadBytes\)$/,
      );
      expect(await queue.getTask(big)).toBeNull();
      expect(await queue.size()).toBe(0);
    });

    it("a queue's own limit: exactly at it is accepted, one byte over is refused; bytes count UTF-8", async () => {
      const queue = limited(100);
      const atLimit = echo("a".repeat(96));
      expect(await queue.add(atLimit)).toBe(true);
      await expect(queue.add(echo("a".repeat(97)))).rejects.toThrow(PayloadTooLargeError);
      // "é" is 2 bytes in UTF-8: 48 of them and the 4 bytes of `[""]` make 100.
      expect(await queue.add(echo("é".repeat(48)))).toBe(true);
      await expect(queue.add(echo("é".repeat(49)))).rejects.toThrow(/item|id/);
    });

    it("one task over the limit refuses the whole batch (naming its position), and schedule and addCron check too", async () => {
      const queue = limited(100);
      const small = echo("ok");
      const error = await queue.add([small, echo("b".repeat(200))]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PayloadTooLargeError);
      expect((error as Error).message).toContain("(item [1], id ");
      expect(await queue.getTask(small)).toBeNull();
      await expect(queue.schedule(echo("c".repeat(200)), 60)).rejects.toThrow(
        /^queue\.schedule\(\): the arguments/,
      );
      await expect(queue.addCron(echo("d".repeat(200)), "0 * * * *")).rejects.toThrow(
        /^queue\.addCron\(\): the arguments/,
      );
      expect(await queue.getCrons()).toEqual([]);
      expect(await queue.size()).toBe(0);
    });

    it("a result over the queue's limit fails the task with PayloadTooLargeError, without a retry; the worker goes on", async () => {
      const queue = limited(1000);
      const big = repeat("z", 2000);
      const fine = repeat("z", 10);
      await queue.add([big, fine]);
      await h.worker(queue).work({ oneshot: true });
      const failed = (await queue.getTask(big))!;
      expect(failed.status).toBe("failed");
      expect(failed.result).toBeNull();
      expect(failed.error?.type).toBe("PayloadTooLargeError");
      expect(failed.error?.message).toBe(
        `the result of task 'payload-limit.repeat' (id ${big.id}): 2,002 bytes of JSON, over the limit of 1,000 (maxPayloadBytes); not retried: the function ran to its end, and another attempt would repeat what it did`,
      );
      expect(failed.retryCount).toBe(0);
      expect((await queue.getTask(fine))?.result).toBe("z".repeat(10));
    });

    it("a chained task whose arguments are over the limit fails its parent and is not added", async () => {
      const queue = limited(100);
      const parent = chainEcho("q".repeat(60));
      await queue.add(parent);
      await h.worker(queue).work({ oneshot: true });
      const failed = (await queue.getTask(parent))!;
      expect(failed.status).toBe("failed");
      expect(failed.error?.type).toBe("PayloadTooLargeError");
      expect(failed.error?.message).toMatch(
        /returned by task 'payload-limit\.chainEcho'.*; not retried/,
      );
      expect(failed.retryCount).toBe(0);
      expect((await queue.getAllTasks()).map((t) => t.id)).toEqual([parent.id]);
    });

    it("what a workflow would store over the limit — its result, a side effect's value, a later step's arguments — fails it with PayloadTooLargeError, at once", async () => {
      const queue = limited(1000);
      const flows: Workflow<unknown>[] = [bigResult(5000), bigEffect(5000), bigLaterStep(5000)];
      const added: Workflow<unknown>[] = [];
      for (const flow of flows) added.push(await queue.addWorkflow(flow));
      for (let round = 0; round < 4; round++) await h.worker(queue).work({ oneshot: true });
      const ended = await Promise.all(added.map((wf) => queue.getWorkflow(wf)));
      expect(ended.map((wf) => [wf?.status, wf?.error?.type])).toEqual(
        flows.map(() => ["failed", "PayloadTooLargeError"]),
      );
      expect(ended.map((wf) => wf?.error?.message)).toEqual([
        expect.stringMatching(
          /^workflow resume: the result of workflow 'payload-limit\.big-result'/,
        ),
        expect.stringMatching(
          /^workflow resume: the value of side effect 0 \(counted from 0, as steps are\) of workflow 'payload-limit\.big-effect'/,
        ),
        expect.stringMatching(
          /^workflow resume: the arguments of step payload-limit\.echo of workflow 'payload-limit\.big-later-step'/,
        ),
      ]);
      // Nothing over the limit was stored: no big side effect, no big step.
      expect(ended[1]?.toJSON().effects).toEqual([]);
      const tasks = await queue.getAllTasks();
      expect(tasks.every((t) => JSON.stringify(t.args).length < 1000)).toBe(true);
    });

    it("an invalid limit is refused when the queue is made", () => {
      const base = h.queue();
      for (const bad of [0, -1, 1.5, Number.NaN, "10" as unknown as number]) {
        expect(() => new Queue(base.backend, { name: base.name, maxPayloadBytes: bad })).toThrow(
          /new Queue\(\): maxPayloadBytes must be a whole number of bytes ≥ 1/,
        );
      }
    });
  });
}
