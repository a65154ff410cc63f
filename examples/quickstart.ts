// The README quickstart: define a task, add it to an in-memory queue, wait for the result.
// Run with `npm run demo`.
import { Queue, task } from "sheppy";

export const sendEmail = task(
  { name: "send-email", retry: 3, retryDelay: [1, 10, 60], timeout: 30 },
  async (to: string, subject: string) => `sent '${subject}' to ${to}`,
);

const queue = new Queue("memory://");
const t = sendEmail("alice@example.com", "Welcome!");
await queue.add(t);
const done = await queue.waitFor(t, { timeout: 5 });
console.log(done.result);
await queue.close();
