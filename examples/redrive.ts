// Dead letters and redrive: list the failed tasks, fix the cause, run them all again.
// `npx tsx examples/redrive.ts`. On memory:// tasks run in this process as they are added.
import { Queue, task } from "sheppy";

let providerUp = false;
const charge = task({ name: "example.charge" }, (order: string) => {
  if (!providerUp) throw new Error(`payment provider unreachable (${order})`);
  return `charged ${order}`;
});

const queue = new Queue("memory://");
await queue.add([charge("order-1"), charge("order-2"), charge("order-3")]); // all three fail

let page = await queue.listTasks({ status: "failed", limit: 2 }); // newest first
console.log(page.tasks.map((t) => t.args[0]).join(", ")); // order-3, order-2
page = await queue.listTasks({ status: "failed", limit: 2, cursor: page.cursor });
console.log(page.tasks.map((t) => t.args[0]).join(", "), page.cursor); // order-1 null

providerUp = true;
const { retried, skipped } = await queue.retryAll({ status: "failed", since: 3600 }); // failed in the last hour
console.log(retried, skipped); // 3 0
const done = await queue.listTasks({ status: "completed" });
console.log(done.tasks.map((t) => t.result).join(", ")); // charged order-3, charged order-2, charged order-1
await queue.close();
