// Priorities, pausing and progress: a queue paused while work piles up runs
// it by priority once resumed, and a task reports how far it got.
// `npx tsx examples/priorities-and-pause.ts`. It runs a worker in this
// process, on the in-memory backend with instant processing off so that the
// worker (not the add) runs each task; a redis://, postgres:// or sqlite://
// URL works alike.
import { log, progress, Queue, task, Worker } from "sheppy";

const ran: string[] = [];
const send = task({ name: "example.send" }, (kind: string) => {
  ran.push(kind);
});
const report = task({ name: "example.report", priority: -10 }, (rows: number) => {
  for (let done = 1; done <= rows; done++) progress({ done, total: rows });
  log(`${rows} rows in the report`);
  ran.push("report");
});

const queue = new Queue("memory://?instantProcessing=false", { name: "mail" });
await queue.pause(); // say, during a deploy: tasks are added, none starts
const monthly = report(10_000);
await queue.add(monthly); // priority -10, from its definition
await queue.add([send("newsletter"), send("digest")]); // priority 0
await queue.add(send("password reset"), { priority: 100 });
console.log(await queue.isPaused(), await queue.size()); // true 4

await queue.resume();
const worker = new Worker(queue, { concurrency: 1 });
await worker.work({ maxTasks: 4 });
console.log(ran.join(", ")); // password reset, newsletter, digest, report
const done = await queue.getTask(monthly);
console.log(JSON.stringify(done?.progress), done?.logs.join("; ")); // {"done":10000,"total":10000} 10000 rows in the report
await queue.close();
