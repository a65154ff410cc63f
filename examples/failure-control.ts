// Failure control: fail at once when retrying cannot help, and choose how long retries wait.
// `npx tsx examples/failure-control.ts`. TestQueue runs the tasks in this process and never
// waits for a retry delay (each record keeps the time its retry was due).
import { task, UnrecoverableError } from "sheppy";
import { TestQueue } from "sheppy/testing";

const charge = task(
  {
    name: "example.charge",
    retry: 5,
    // 2 s, 4 s, 8 s, then 10 s: doubling from 2 s, capped at 10 s.
    retryDelay: { type: "exponential", delay: 2, max: 10 },
  },
  (card: string) => {
    if (card === "expired") throw new UnrecoverableError(`card ${card} declined`);
    throw new Error("payment provider timed out");
  },
);

const queue = new TestQueue();
const [flaky, expired] = [charge("visa"), charge("expired")];
await queue.add([flaky, expired]);
const attempts = await queue.processAll();

const waits = attempts
  .filter((t) => t.id === flaky.id && t.status === "retrying")
  .map((t) => (t.nextRetryAt!.getTime() - t.lastRetryAt!.getTime()) / 1000);
console.log(waits.join(", ")); // 2, 4, 8, 10, 10
const [a, b] = await queue.getTask([flaky, expired]);
console.log(a?.status, a?.retryCount); // failed 5
console.log(b?.status, b?.retryCount, `${b?.error}`); // failed 0 UnrecoverableError: card expired declined
await queue.close();
