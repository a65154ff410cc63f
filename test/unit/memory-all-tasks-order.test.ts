import { describe, expect, it } from "vitest";
import { Queue, task } from "../../src/index.js";

const item = task({ name: "memory-order.item" }, (n: number) => n);

describe("memory backend: getAllTasks and iterateTasks", () => {
  it("page newest first by creation time, as the other built-in backends do", async () => {
    const queue = new Queue("memory://?instantProcessing=false", { name: "order" });
    const tasks = Array.from({ length: 5 }, (_, i) => item(i));
    for (const t of tasks) await queue.add(t);
    const newestFirst = tasks.map((t) => t.id).reverse();
    expect((await queue.getAllTasks()).map((t) => t.id)).toEqual(newestFirst);
    const paged: string[] = [];
    for await (const t of queue.iterateTasks(2)) paged.push(t.id);
    expect(paged).toEqual(newestFirst);
    await queue.close();
  });
});
