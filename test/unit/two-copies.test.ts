/**
 * Two copies of Sheppy in one process (a global CLI and the project's install,
 * or a task module importing Sheppy by a path) each keep their own tasks and
 * `Task` class: a Task of the other copy handed to a queue, or task modules
 * that registered their tasks with the other copy, are errors that say so.
 */
import { InvalidTaskError, MemoryBackend, Queue } from "sheppy";
import { afterEach, describe, expect, it } from "vitest";
import { copiesNote, otherCopies, twoCopiesNote } from "../../src/task/loaded-copies.js";

const KEY = Symbol.for("sheppy.loadedCopies");
const copies = (globalThis as { [KEY]?: Set<string> })[KEY]!;

/** What another copy's `Task` looks like from here: the same class name and fields, another class. */
class Task {
  readonly id = "0193a6c4-7b1e-7cc2-8a55-1f0e2d3c4b5a";
  readonly name = "elsewhere.task";
  readonly args = [1];
}

describe("two copies of sheppy", () => {
  const other = "/opt/other-install/node_modules/sheppy/";
  afterEach(() => {
    copies.delete(other);
  });

  it("one copy loaded: no note; a copy that noted itself is named beside this one", () => {
    expect(otherCopies()).toEqual([]);
    expect(twoCopiesNote()).toBeUndefined();
    copies.add(other);
    expect(otherCopies()).toEqual([other]);
    expect(twoCopiesNote()).toMatch(
      new RegExp(`two copies of sheppy are loaded \\(\\S+ and ${other}\\).*from one install`),
    );
  });

  it("one install loaded twice (as an ES module and, through tsx's require() hook, as CommonJS) is named so, with what to change", () => {
    const [self] = [...copies];
    const again = `${self} (loaded 2 times)`;
    copies.add(again);
    try {
      expect(twoCopiesNote()).toBe(
        `two copies of sheppy are loaded (${self} and ${again}), each with its own tasks: one install loaded twice, as an ES module and as CommonJS (a TypeScript module of a package without "type": "module", loaded by tsx): give the package "type": "module", or name its modules .mts, or start the worker with sheppy work`,
      );
    } finally {
      copies.delete(again);
    }
  });

  it("queue.add() given another copy's Task says so, in one line; a plain object is told apart", async () => {
    const queue = new Queue(new MemoryBackend(), { name: "two-copies" });
    const error = (await queue.add(new Task() as never).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(InvalidTaskError);
    expect(error.message).toContain("got a Task of another copy of sheppy, not this one's");
    expect(error.message).toContain(copiesNote());
    expect(error.message).not.toContain("\n");
    const plain = (await queue
      .add({ id: "x", name: "n", args: [] } as never)
      .catch((e: unknown) => e)) as Error;
    expect(plain.message).toContain("got a plain object, not a Task");
    await queue.close();
  });
});
