/**
 * Type-level contract of dedupe and caller-chosen ids (checked by `vitest
 * --project types`): with `dedupe` or `id`, `add` and `schedule` resolve to
 * `AddResult`; without them, to the booleans they always did; a list takes
 * neither; `replace` is the only other mode.
 */
import {
  type AddEntry,
  type AddResult,
  type EnqueueOptions,
  Queue,
  type ReportingEnqueueOptions,
  task,
} from "sheppy";
import { describe, expectTypeOf, test } from "vitest";

const queue = new Queue("memory://");
const sync = task({ name: "types.dedupe.sync" }, (user: string) => user);

describe("dedupe and id types", () => {
  test("with dedupe or id, add and schedule say what they did", async () => {
    expectTypeOf(await queue.add(sync("u"), { dedupe: { key: "k" } })).toEqualTypeOf<AddResult>();
    expectTypeOf(
      await queue.add(sync("u"), { dedupe: { key: "k", mode: "replace" }, priority: 3 }),
    ).toEqualTypeOf<AddResult>();
    expectTypeOf(await queue.add(sync("u"), { id: "order-42" })).toEqualTypeOf<AddResult>();
    expectTypeOf(
      await queue.schedule(sync("u"), 60, { dedupe: { key: "k", window: 60 } }),
    ).toEqualTypeOf<AddResult>();
    expectTypeOf<AddResult["outcome"]>().toEqualTypeOf<"added" | "ignored" | "replaced">();
    expectTypeOf<AddResult["id"]>().toEqualTypeOf<string>();
  });

  test("options in a variable type the answer as written inline do", async () => {
    const reporting: ReportingEnqueueOptions = { id: "order-43" };
    expectTypeOf(await queue.add(sync("u"), reporting)).toEqualTypeOf<AddResult>();
    const plain: EnqueueOptions = { priority: 2 };
    expectTypeOf(await queue.add(sync("u"), plain)).toEqualTypeOf<boolean>();
    // @ts-expect-error EnqueueOptions holds no id: an add under one answers AddResult, not a boolean
    const mistyped: EnqueueOptions & { id?: string } = { id: "order-44" };
    void mistyped;
  });

  test("an id or key that may be undefined answers either form", async () => {
    const externalId: string | undefined = Math.random() > 0.5 ? "order-45" : undefined;
    expectTypeOf(await queue.add(sync("u"), { id: externalId })).toEqualTypeOf<
      AddResult | boolean
    >();
    const key: { key: string } | undefined = externalId ? { key: externalId } : undefined;
    expectTypeOf(await queue.add(sync("u"), { dedupe: key, priority: 2 })).toEqualTypeOf<
      AddResult | boolean
    >();
    expectTypeOf(await queue.schedule(sync("u"), 60, { id: externalId })).toEqualTypeOf<
      AddResult | boolean
    >();
  });

  test("without them, the booleans stay", async () => {
    expectTypeOf(await queue.add(sync("u"))).toEqualTypeOf<boolean>();
    expectTypeOf(await queue.add(sync("u"), { priority: 1 })).toEqualTypeOf<boolean>();
    expectTypeOf(await queue.add([sync("u")])).toEqualTypeOf<boolean[]>();
    expectTypeOf(await queue.schedule(sync("u"), 60)).toEqualTypeOf<boolean>();
    // @ts-expect-error a list takes no dedupe key
    await queue.add([sync("u")], { dedupe: { key: "k" } });
    // @ts-expect-error only ignore or replace
    await queue.add(sync("u"), { dedupe: { key: "k", mode: "later" } });
  });

  test("a list of entries, each with its own id or key, says what became of each", async () => {
    const entries = ["a", "b"].map((user) => ({ task: sync(user), id: `sync:${user}` }));
    expectTypeOf(await queue.add(entries)).toEqualTypeOf<AddResult[]>();
    expectTypeOf(
      await queue.add(
        [
          { task: sync("u"), dedupe: { key: "k", mode: "replace" }, at: 60 },
          { task: sync("v"), priority: 5, concurrency: { key: "tenant-1" } },
        ],
        { priority: 1 },
      ),
    ).toEqualTypeOf<AddResult[]>();
    const typed: AddEntry[] = [{ task: sync("u") }];
    expectTypeOf(await queue.add(typed)).toEqualTypeOf<AddResult[]>();
    // @ts-expect-error an entry's option misspelt
    await queue.add([{ task: sync("u"), dedup: { key: "k" } }]);
    // @ts-expect-error an entry holds a Task, not its factory
    await queue.add([{ task: sync }]);
    // @ts-expect-error the call's options take no id: each entry carries its own
    await queue.add([{ task: sync("u") }], { id: "x" });
  });
});

describe("tx types", () => {
  test("a pg client is a tx, with or without an ignore key; a pg Pool is not (it is outside any transaction)", async () => {
    const { default: pg } = await import("pg");
    const pool = new pg.Pool();
    const client = await pool.connect();
    expectTypeOf(await queue.add(sync("u"), { tx: client })).toEqualTypeOf<boolean>();
    expectTypeOf(
      await queue.add(sync("u"), { tx: client, dedupe: { key: "k" } }),
    ).toEqualTypeOf<AddResult>();
    // @ts-expect-error a pool runs each statement on a connection of its choice
    await queue.add(sync("u"), { tx: pool });
  });
});
