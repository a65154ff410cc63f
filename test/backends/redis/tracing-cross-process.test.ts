/**
 * Trace context across processes on Redis: process A (its own SDK) adds a
 * task; this process, B, runs it. B's CONSUMER span is in A's trace, its
 * parent is A's PRODUCER span, and it links to it.
 */
import type { ChildProcess } from "node:child_process";
import { pino } from "pino";
import { Queue, task, Worker } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll, describe, expect, it } from "vitest";
import { fileKey } from "../../support/isolation.js";
import { outputOf, spawnTs } from "../../support/processes.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";
import { registerTestTracing, spansNamed } from "../../support/tracing.js";

const prefix = fileKey(import.meta.url);
const available = await requireService("Redis", REDIS_URL);
const exporter = registerTestTracing();
// The same name as process A's task: B runs what A added.
task({ name: "tracing.cross" }, (text: string) => `B ran: ${text}`);

/** Everything `child` prints on stdout; it must exit 0. */
async function stdoutOf(child: ChildProcess): Promise<string> {
  const { code, stdout, stderr } = await outputOf(child);
  if (code !== 0) throw new Error(`process A exited ${code}: ${stderr}`);
  return stdout;
}

describe.skipIf(!available)("redis: trace context from one process to another", () => {
  afterAll(() => deleteRedisPrefix(prefix));

  it("the consumer in B is the child of the producer in A", async () => {
    const queueName = "traced-cross";
    const child = spawnTs("test/fixtures/traced-producer.ts", {
      TEST_REDIS_URL: REDIS_URL,
      TEST_PREFIX: prefix,
      TEST_QUEUE: queueName,
    });
    const line = (await stdoutOf(child)).trim().split("\n").at(-1)!;
    const added = JSON.parse(line) as { id: string; traceId: string; spanId: string };
    const queue = new Queue(new RedisBackend({ url: REDIS_URL, prefix }), { name: queueName });
    const worker = new Worker(queue, {
      scheduler: false,
      cronManager: false,
      logger: pino({ level: "silent" }),
    });
    await worker.work({ oneshot: true });
    const done = await queue.getTask(added.id);
    await queue.close();
    expect(done?.result).toBe("B ran: from A");
    expect(spansNamed(exporter, `send ${queueName}`)).toEqual([]);
    const [consumer] = spansNamed(exporter, `process ${queueName}`);
    expect(consumer!.spanContext().traceId).toBe(added.traceId);
    expect(consumer!.parentSpanContext?.spanId).toBe(added.spanId);
    expect(consumer!.parentSpanContext?.isRemote).toBe(true);
    expect(consumer!.links.map((link) => link.context.spanId)).toEqual([added.spanId]);
    expect(consumer!.attributes["messaging.message.id"]).toBe(added.id);
  });
});
