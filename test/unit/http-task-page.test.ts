/**
 * `GET /{queue}/tasks` pages by size as well as by count: a page whose JSON
 * would pass the budget ends early, its cursor resuming after the last row
 * sent, so a queue of large records is listed whole, each task once, in
 * order, without an answer of hundreds of megabytes.
 */
import fc from "fast-check";
import { MemoryBackend, Queue, task } from "sheppy";
import { createHttpHandler } from "sheppy/http";
import { describe, expect, it } from "vitest";
import { firstWithinBudget, PAGE_JSON_CHARS, taskPage } from "../../src/http/task-page.js";

const blob = task({ name: "task-page.blob" }, (text: string) => text.length);

describe("a task list page's size budget", () => {
  it("property: following the cursors lists every task once, newest first; a page passes the budget only with one row", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 3_000 }), { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 500, max: 8_000 }),
        fc.boolean(),
        async (sizes, limit, budget, summary) => {
          const queue = new Queue(new MemoryBackend(), { name: "pages" });
          const added = sizes.map((size) => blob("x".repeat(size)));
          for (const t of added) await queue.add(t);
          const seen: string[] = [];
          let cursor: string | null = null;
          for (let pages = 0; pages <= sizes.length + 1; pages++) {
            const page: { tasks: unknown[]; cursor: string | null } = await taskPage(
              queue,
              { statuses: undefined, matches: undefined, cursor, limit, summary },
              budget,
            );
            expect(page.tasks.length).toBeLessThanOrEqual(limit);
            if (page.tasks.length > 1) {
              expect(JSON.stringify(page.tasks).length).toBeLessThanOrEqual(
                budget + page.tasks.length + 1,
              );
            }
            for (const row of page.tasks) seen.push((row as { id: string }).id);
            cursor = page.cursor;
            if (cursor === null) break;
          }
          expect(cursor).toBeNull();
          // Newest first: the reverse of the order they were added in.
          expect(seen).toEqual(added.map((t) => t.id).reverse());
          await queue.close();
        },
      ),
      { numRuns: 60 },
    );
  });

  it("the API sends a queue of megabyte records a few at a time, with a cursor for the rest", async () => {
    const backend = new MemoryBackend();
    const queue = new Queue(backend, { name: "big" });
    const big = "y".repeat(1024 * 1024);
    for (let i = 0; i < 12; i++) await queue.add(blob(big));
    const handler = createHttpHandler(backend);
    const first = (await (
      await handler(new Request("http://127.0.0.1/big/tasks?limit=100"))
    ).json()) as {
      tasks: unknown[];
      cursor: string | null;
    };
    expect(first.tasks.length).toBeGreaterThan(0);
    expect(first.tasks.length).toBeLessThan(12);
    expect(JSON.stringify(first).length).toBeLessThan(PAGE_JSON_CHARS + 4096);
    expect(first.cursor).not.toBeNull();
    const rest = (await (
      await handler(new Request(`http://127.0.0.1/big/tasks?limit=100&cursor=${first.cursor}`))
    ).json()) as { tasks: unknown[] };
    expect(first.tasks.length + rest.tasks.length).toBeLessThanOrEqual(12);
    await queue.close();
  });

  it("the first pending and scheduled tasks are cut at the budget too, oldest first, at least one however large", async () => {
    // Not run as they are added: they stay pending and scheduled.
    const backend = new MemoryBackend({ instantProcessing: false });
    const queue = new Queue(backend, { name: "firsts" });
    const big = "z".repeat(1024 * 1024);
    const pending = Array.from({ length: 12 }, () => blob(big));
    for (const t of pending) await queue.add(t);
    const scheduled = Array.from({ length: 12 }, () => blob(big));
    for (const [i, t] of scheduled.entries()) await queue.schedule(t, 3600 + i);
    const handler = createHttpHandler(backend);
    for (const [path, added] of [
      ["pending", pending],
      ["scheduled", scheduled],
    ] as const) {
      const response = await handler(
        new Request(`http://127.0.0.1/firsts/tasks/${path}?limit=100`),
      );
      const text = await response.text();
      const rows = JSON.parse(text) as { id: string }[];
      expect(rows.length, path).toBeGreaterThan(0);
      expect(rows.length, path).toBeLessThan(12);
      expect(text.length, path).toBeLessThan(PAGE_JSON_CHARS + 4096);
      expect(rows.map((row) => row.id)).toEqual(added.slice(0, rows.length).map((t) => t.id));
    }
    const huge = new Queue(backend, { name: "huge" });
    await huge.add(blob("h".repeat(PAGE_JSON_CHARS + 10)));
    const alone = await handler(new Request("http://127.0.0.1/huge/tasks/pending"));
    expect(((await alone.json()) as unknown[]).length).toBe(1);
    await queue.close();
  });

  it("property: firstWithinBudget keeps a prefix within the budget, never empty when rows are given", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 50 })),
        fc.integer({ min: 0, max: 400 }),
        (rows, budget) => {
          const kept = firstWithinBudget(rows, budget);
          expect(kept).toEqual(rows.slice(0, kept.length));
          if (rows.length > 0) expect(kept.length).toBeGreaterThan(0);
          if (kept.length > 1)
            expect(JSON.stringify(kept).length - kept.length - 1).toBeLessThanOrEqual(budget);
          if (kept.length < rows.length) {
            const withNext = rows.slice(0, kept.length + 1);
            const chars = withNext.reduce((sum, row) => sum + JSON.stringify(row).length, 0);
            expect(chars).toBeGreaterThan(budget);
          }
        },
      ),
    );
  });
});
