/**
 * A list of entries given to `queue.add` ends as adding each entry alone, in
 * the list's order, would: the same outcome and id per entry, and the same
 * records stored (random lists of ids, keys, modes and times drawn from small
 * pools so that they collide, keyed and plain entries mixed).
 */
import fc from "fast-check";
import { type AddEntry, type AddResult, MemoryBackend, Queue, task } from "sheppy";
import { describe, expect, it } from "vitest";

const job = task({ name: "add-entries-property.job" }, (n: number) => n);

const drawn = fc.record({
  n: fc.integer({ min: 0, max: 1000 }),
  id: fc.option(fc.constantFrom("a", "b", "c"), { nil: undefined }),
  key: fc.option(fc.constantFrom("k1", "k2"), { nil: undefined }),
  mode: fc.constantFrom("ignore" as const, "replace" as const),
  later: fc.boolean(),
  priority: fc.option(fc.integer({ min: -3, max: 3 }), { nil: undefined }),
});

/** A fresh queue on its own memory backend, tasks left for a worker. */
function freshQueue(): Queue {
  return new Queue(new MemoryBackend({ instantProcessing: false }), { name: "entries" });
}

/** What a queue holds, comparable across two queues. */
async function contents(queue: Queue) {
  const tasks = await queue.getAllTasks();
  return tasks
    .map((t) => ({ id: t.id, args: [...t.args], status: t.status, priority: t.priority }))
    .sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
}

describe("a list of entries, against each entry added alone", () => {
  it("gives the same outcomes and stores the same records", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(drawn, { minLength: 1, maxLength: 12 }), async (list) => {
        const tasks = list.map((d) => job(d.n));
        const entries: AddEntry[] = list.map((d, i) => ({
          task: tasks[i]!,
          ...(d.id ? { id: d.id } : {}),
          ...(d.key ? { dedupe: { key: d.key, mode: d.mode } } : {}),
          ...(d.later ? { at: 3600 } : {}),
          ...(d.priority === undefined ? {} : { priority: d.priority }),
        }));
        const together = freshQueue();
        const alone = freshQueue();
        try {
          const results = await together.add(entries);
          const expected: AddResult[] = [];
          for (const [i, d] of list.entries()) {
            const options = {
              ...(d.id ? { id: d.id } : {}),
              ...(d.key ? { dedupe: { key: d.key, mode: d.mode } } : {}),
              ...(d.priority === undefined ? {} : { priority: d.priority }),
            };
            const reporting = d.id || d.key;
            if (reporting) {
              expected.push(
                d.later
                  ? await alone.schedule(tasks[i]!, 3600, options as { id: string })
                  : await alone.add(tasks[i]!, options as { id: string }),
              );
            } else {
              const plain = d.priority === undefined ? {} : { priority: d.priority };
              const added = d.later
                ? await alone.schedule(tasks[i]!, 3600, plain)
                : await alone.add(tasks[i]!, plain);
              expected.push({ outcome: added ? "added" : "ignored", id: tasks[i]!.id });
            }
          }
          expect(results).toEqual(expected);
          expect(await contents(together)).toEqual(await contents(alone));
        } finally {
          await together.close();
          await alone.close();
        }
      }),
      { numRuns: 300 },
    );
  });
});
