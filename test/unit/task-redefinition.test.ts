/**
 * A task module evaluated again — a test runner's module reset, a reload, the
 * same file imported under a second specifier — defines its tasks and
 * workflows again from the same place: the new definitions replace the old.
 * The same name defined in another module is still a DuplicateTaskNameError,
 * which names both modules.
 */
import { DuplicateTaskNameError, task } from "sheppy";
import { TestQueue } from "sheppy/testing";
import { describe, expect, test } from "vitest";

describe("a task module evaluated again", () => {
  test("defines its tasks and workflows again without an error, and the latest definitions run", async () => {
    const first = await import("../fixtures/redefinition/tasks.js");
    // A second specifier of the same file: a module instance of its own, evaluated again.
    // @ts-expect-error a query the type checker cannot resolve; the module is the same file
    const again = await import("../fixtures/redefinition/tasks.js?again");
    expect(again.greet).not.toBe(first.greet);
    const queue = new TestQueue();
    const t = first.greet("ada");
    await queue.add(t);
    await queue.processAll();
    expect((await queue.getTask(t))?.result).toBe("hello ada");
  });

  test("the same name defined in another module is refused, naming both modules", async () => {
    await import("../fixtures/redefinition/tasks.js");
    const refused = await import("../fixtures/redefinition/elsewhere.js").then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(DuplicateTaskNameError);
    expect((refused as Error).message).toMatch(
      /^task 'redefinition\.greet' is already defined in this process \(first in \S*redefinition[\\/]tasks\.ts, again in \S*redefinition[\\/]elsewhere\.ts\); task names must be unique/,
    );
  });

  test("a helper that defines tasks, called twice with one name, is still refused", () => {
    const define = (name: string) => task({ name }, () => 1);
    define("redefinition.helper");
    expect(() => define("redefinition.helper")).toThrow(DuplicateTaskNameError);
    // Both in this file: the message tells the two places apart by their lines.
    expect(() => define("redefinition.helper")).toThrow(
      /\(first in \S*task-redefinition\.test\.ts:\d+:\d+ < \S*task-redefinition\.test\.ts:(\d+):\d+, again in \S*task-redefinition\.test\.ts:\d+:\d+ < \S*task-redefinition\.test\.ts:(?!\1:)\d+:\d+\)/,
    );
  });
});
