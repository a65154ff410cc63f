// A drip campaign: a welcome, a wait, a nudge only for users who did nothing, and the end
// of the trial at a set time. The waits are steps that hold no worker; tested with a
// TestClock, a week passes in milliseconds: `npx tsx examples/workflows/drip.ts`.
import { sleep, sleepUntil, step, task, workflow } from "sheppy";
import { TestClock, TestQueue } from "sheppy/testing";

const sent: string[] = [];
const sendMail = task({ name: "example.drip-mail" }, (to: string, what: string) => {
  sent.push(`${what} → ${to}`);
  return what;
});
const logins = task({ name: "example.drip-logins" }, (user: string) => (user === "ada" ? 3 : 0));

export const trial = workflow({ name: "example.trial" }, function* (user: string, endsAt: string) {
  yield* step(sendMail(user, "welcome"));
  yield* sleep(3 * 24 * 3600); // three days, counted from here
  const used = yield* step(logins(user));
  if (used.result === 0) yield* step(sendMail(user, "nudge"));
  yield* sleepUntil(endsAt);
  yield* step(sendMail(user, "trial over"));
  return used.result;
});

const clock = new TestClock(Date.parse("2030-01-01T09:00:00Z"));
const queue = new TestQueue({ clock });
const ends = "2030-01-08T09:00:00Z";
for (const user of ["ada", "bob"]) {
  // An id of your own: adding the same user's trial again starts nothing.
  await queue.processWorkflow(trial(user, ends), { id: `trial-${user}` });
}
for (let day = 1; day <= 7; day++) {
  await clock.advance(24 * 3600);
  await queue.processScheduled(); // the sleeps due by now wake
  await queue.processAll(); // and their workflows go on
}
const done = await queue.waitForWorkflow(["trial-ada", "trial-bob"], { timeout: 0 });
console.log(JSON.stringify({ logins: done.map((w) => w.result), sent }));
