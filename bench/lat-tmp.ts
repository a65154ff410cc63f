import { Queue, task, Worker } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { percentile } from "./stats.js";

const starts = new Map<number, number>();
const stamp = task({ name: "stamp" }, (i: number) => {
  starts.set(i, performance.now());
  return null;
});
const prefix = `lat-${process.pid}`;
const queue = new Queue(new RedisBackend({ prefix }), { name: "b" });
const wq = new Queue(new RedisBackend({ prefix }), { name: "b" });
await queue.connect();
const worker = new Worker(wq, { concurrency: 10, scheduler: false });
const working = worker.work();
await new Promise((r) => setTimeout(r, 300));
const lat: number[] = [];
const addT: number[] = [];
for (let i = 0; i < 1000; i++) {
  const t = stamp(i);
  const sent = performance.now();
  await queue.add(t);
  const added = performance.now();
  await queue.waitFor(t);
  lat.push(starts.get(i)! - sent);
  addT.push(added - sent);
}
for (const p of [50, 90, 95, 99])
  console.log(p, percentile(lat, p).toFixed(2), percentile(addT, p).toFixed(2));
await worker.close();
await working;
await queue.clear();
await queue.close();
await wq.close();
