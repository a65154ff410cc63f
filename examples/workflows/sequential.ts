// A sequential workflow: each step's result feeds the next. Runs on memory://, where
// addWorkflow drives the workflow to its end: `npx tsx examples/workflows/sequential.ts`.
import { Queue, step, task, workflow } from "sheppy";

const fetchUser = task({ name: "example.fetch-user" }, (id: string) => ({
  id,
  email: `${id}@example.com`,
}));
const sendWelcome = task({ name: "example.send-welcome" }, (email: string) => `welcomed ${email}`);

export const onboard = workflow({ name: "example.onboard" }, function* (userId: string) {
  const user = yield* step(fetchUser(userId)); // the finished Task<{ id; email }>
  // Checking the status narrows the task: once completed, its result is typed and never null.
  if (user.status !== "completed") throw new Error(`no user ${userId}: ${user.status}`);
  const mail = yield* step(sendWelcome(user.result.email));
  return mail.result;
});

const queue = new Queue("memory://");
const done = await queue.addWorkflow(onboard("alice"));
console.log(done.status, done.result); // completed welcomed alice@example.com
await queue.close();
