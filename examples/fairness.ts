// Fairness per tenant: each tenant's imports run one at a time, in the order
// they were added, while other tenants' run alongside; and a queue-wide cap
// keeps at most 3 of the queue's tasks running across every worker.
// `npx tsx examples/fairness.ts`. It runs a worker in this process, on the
// in-memory backend with instant processing off so that the worker (not the
// add) runs each task; a redis://, postgres:// or sqlite:// URL works alike.
import { Queue, task, Worker } from "sheppy";

const running = new Map<string, number>();
let most = 0;
let mostAtOnce = 0;
const started: string[] = [];

const importFile = task(
  // The key comes from the arguments: one tenant's imports share one slot.
  { name: "example.import", concurrency: { key: (tenant: string) => tenant, limit: 1 } },
  async (tenant: string, file: number) => {
    started.push(`${tenant}${file}`);
    const now = (running.get(tenant) ?? 0) + 1;
    running.set(tenant, now);
    most = Math.max(most, now);
    const total = [...running.values()].reduce((a, b) => a + b, 0);
    mostAtOnce = Math.max(mostAtOnce, total);
    await new Promise((resolve) => setTimeout(resolve, 20));
    running.set(tenant, now - 1);
  },
);

const queue = new Queue("memory://?instantProcessing=false", { name: "imports" });
await queue.setConcurrencyLimit(3);
// Tenant a uploads 4 files before b and c upload 2 each.
await queue.add([1, 2, 3, 4].map((file) => importFile("a", file)));
await queue.add([1, 2].flatMap((file) => [importFile("b", file), importFile("c", file)]));
console.log(await queue.size(), (await queue.stats()).pending); // 3 8: one claimable per tenant, the rest held

const worker = new Worker(queue, { concurrency: 10 });
await worker.work({ maxTasks: 8 });
console.log(started.slice(0, 3).join(" ")); // a1 b1 c1: b and c did not wait for all of a
console.log(started.filter((s) => s.startsWith("a")).join(" ")); // a1 a2 a3 a4: in order
console.log(most, mostAtOnce <= 3); // 1 true
await queue.close();
