// Crons every N seconds and in a time zone, on a clock this program moves (nothing waits):
// `npx tsx examples/cron.ts`. A real app adds the crons to its Queue and runs a Worker.
import { task } from "sheppy";
import { TestClock, TestQueue } from "sheppy/testing";

const pulse = task({ name: "example.pulse" }, () => "pulse");
const backup = task({ name: "example.backup" }, (site: string) => `backed up ${site}`);

// Noon UTC, the day before Berlin moves its clocks from 02:00 to 03:00.
const clock = new TestClock(new Date("2030-03-30T12:00:00Z"));
const queue = new TestQueue({ clock });
await queue.addCron(pulse(), { every: 30 }); // at :00 and :30 of every minute
await queue.addCron(backup("berlin"), "30 2 * * *", { timezone: "Europe/Berlin" });

await queue.scheduleCronRuns(); // what a worker's cron manager does: the next 3 runs of each
for (const run of await queue.getScheduled()) {
  console.log(run.name, run.scheduledAt?.toISOString());
}
// example.pulse 2030-03-30T12:00:30.000Z, …12:01:00, …12:01:30
// example.backup 2030-03-31T01:00:00.000Z (02:30 does not exist that night: 03:00 CEST),
// then 2030-04-01T00:30:00.000Z and 2030-04-02T00:30:00.000Z (02:30 CEST)

await clock.advance(30);
const [ran] = await queue.processScheduled();
console.log(ran?.status, ran?.result); // completed pulse
await queue.close();
