/**
 * Options a user misspells or leaves out are refused in one line naming the
 * call: a `dedupe` object with a key it does not take (a misspelt `window`
 * would silently turn a throttle into a plain "ignore"), and a `Worker`
 * given no queue at all.
 */
import { InvalidOptionError, Queue, task, Worker } from "sheppy";
import { describe, expect, it } from "vitest";

const ok = task({ name: "bad-construction.ok" }, (n: number) => n);

describe("bad construction", () => {
  it("dedupe with a key it does not take is refused, and nothing is stored", async () => {
    const queue = new Queue("memory://?instantProcessing=false", { name: "dedupe-typo" });
    const t = ok(1);
    const add = queue.add(t, { dedupe: { key: "k", windw: 5 } as never });
    await expect(add).rejects.toThrow(InvalidOptionError);
    await expect(add).rejects.toThrow(
      "queue.add(): dedupe has unknown option 'windw'; did you mean 'window'? (valid options: key, mode, window)",
    );
    expect(await queue.getTask(t)).toBeNull();
  });

  it.each([
    ["undefined", undefined],
    ["null", null],
    ["an object", {}],
    ["a number", 3],
    ["an empty list", []],
  ])("new Worker(%s) says it needs a queue", (_, given) => {
    expect(() => new Worker(given as never)).toThrow(InvalidOptionError);
    expect(() => new Worker(given as never)).toThrow(
      /^new Worker\(\) needs a Queue or a non-empty list of Queues \(got .+\)$/,
    );
  });

  it("new Worker(url) says to make a Queue of the URL", () => {
    expect(() => new Worker("redis://localhost:6379" as never)).toThrow(
      'new Worker() needs a Queue or a non-empty list of Queues (got redis://localhost:6379) — make one with new Queue("redis://localhost:6379")',
    );
    let thrown = "";
    try {
      new Worker("redis://:secret@localhost:6379" as never);
    } catch (error) {
      thrown = String(error);
    }
    expect(thrown).toContain("new Worker()");
    expect(thrown).not.toContain("secret");
  });
});
