// A nested workflow runs inline: its steps become steps of the caller, and the caller
// gets its result. `npx tsx examples/workflows/nested.ts`
import { now, Queue, run, step, task, workflow } from "sheppy";

const createAccount = task({ name: "example.create-account" }, (plan: string) => `acct-${plan}`);
const chargeCard = task({ name: "example.charge" }, (account: string, cents: number) => ({
  account,
  cents,
}));

export const setupBilling = workflow({ name: "example.setup-billing" }, function* (plan: string) {
  const account = yield* step(createAccount(plan));
  if (account.status !== "completed") throw new Error(`no account: ${account.status}`);
  const charge = yield* step(chargeCard(account.result, plan === "pro" ? 2000 : 0));
  if (charge.status !== "completed") throw new Error(`not charged: ${charge.status}`);
  return charge.result;
});

export const signUp = workflow({ name: "example.sign-up" }, function* (user: string) {
  // `now()` is recorded on the first run, so every replay sees the same time.
  const startedAt = yield* now();
  const billing = yield* run(setupBilling("pro"));
  return {
    user,
    account: billing.account,
    charged: billing.cents,
    since: startedAt.getFullYear() > 2000,
  };
});

const queue = new Queue("memory://");
const done = await queue.addWorkflow(signUp("bob"));
console.log(JSON.stringify(done.result)); // {"user":"bob","account":"acct-pro","charged":2000,"since":true}
await queue.close();
