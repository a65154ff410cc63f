// Dedupe: adds under one key make one task. `ignore` (the default) drops an
// add while the key's task is unfinished; `replace` gives a waiting task the
// newest arguments (a debounce); a `window` holds the key for a time, even
// once its task has finished (a throttle); an `id` of your own is added once.
// `npx tsx examples/dedupe.ts`. It runs a worker in this process on
// memory:// (any backend URL works alike — on one that keeps its data, use a
// fresh prefix or database each run: a second run finds the first run's keys
// and windows still held); a test clock moves the window on.
import { Queue, task, Worker } from "sheppy";
import { TestClock } from "sheppy/testing";

const synced: string[] = [];
const sync = task({ name: "example.sync" }, (user: string, reason: string) => {
  synced.push(`${user} (${reason})`);
});

const clock = new TestClock(Date.UTC(2030, 0, 1));
const queue = new Queue("memory://?instantProcessing=false", { name: "sync", clock });
const worker = new Worker(queue, { concurrency: 1 });

const first = await queue.add(sync("ada", "signup"), { dedupe: { key: "sync:ada" } });
const again = await queue.add(sync("ada", "profile"), { dedupe: { key: "sync:ada" } });
console.log(first.outcome, again.outcome, again.id === first.id); // added ignored true

const debounce = { key: "sync:bob", mode: "replace" } as const;
await queue.add(sync("bob", "edit 1"), { dedupe: debounce });
const latest = await queue.add(sync("bob", "edit 2"), { dedupe: debounce });
console.log(latest.outcome); // replaced

const order = await queue.add(sync("carol", "order"), { id: "order-42" });
const resent = await queue.add(sync("carol", "order"), { id: "order-42" });
console.log(order.outcome, resent.outcome, resent.id); // added ignored order-42

await worker.work({ maxTasks: 3 });
console.log(synced.join(", ")); // ada (signup), bob (edit 2), carol (order)

const hourly = { key: "digest", window: 3600 };
await queue.add(sync("team", "digest"), { dedupe: hourly });
await worker.work({ maxTasks: 1 });
const soon = await queue.add(sync("team", "digest"), { dedupe: hourly });
await clock.advance(3600);
const nextHour = await queue.add(sync("team", "digest"), { dedupe: hourly });
console.log(soon.outcome, nextHour.outcome); // ignored added
await queue.close();
