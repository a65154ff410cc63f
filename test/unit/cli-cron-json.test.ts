/**
 * `cron list --format json` gives as `id` the id `cron add` prints, the
 * table shows and `cron delete` takes; the registration's own id is kept
 * apart under `registrationId`.
 */
import { Queue, task } from "sheppy";
import { describe, expect, test } from "vitest";
import { cronJson } from "../../src/cli/commands/cron.js";
import { cronDeterministicId } from "../../src/queue/cron.js";

const tick = task({ name: "cli-cron-json.tick" }, () => null);

describe("cron list --format json", () => {
  test("id is the deterministic id", async () => {
    const queue = new Queue("memory://?instantProcessing=false", { name: "cli-cron-json" });
    await queue.addCron(tick(), "@hourly");
    const [cron] = await queue.getCrons();
    const json = cronJson(cron!);
    expect(json.id).toBe(cronDeterministicId(tick(), "@hourly"));
    expect(json.id).toBe(cron!.deterministicId);
    expect(json.registrationId).toBe(cron!.id);
    expect(json.name).toBe("cli-cron-json.tick");
    await queue.close();
  });
});
