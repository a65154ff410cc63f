/**
 * A misspelt option is an error, never an option silently ignored: a typo in
 * `timeout` would leave a wait unbounded, in `dedupe` add a duplicate, in
 * `readOnly` leave the HTTP API open to changes, in `name` use the default
 * queue, in a backend's `schema` or `prefix` store the tasks where no one
 * looks for them. And a first argument that is no backend is refused at once.
 */
import {
  BackendUrlError,
  CronExpressionError,
  InvalidOptionError,
  MemoryBackend,
  PostgresBackend,
  Queue,
  RedisBackend,
  SqliteBackend,
  step,
  task,
  Worker,
  workflow,
} from "sheppy";
import { createHttpHandler } from "sheppy/http";
import { describe, expect, it } from "vitest";

const echo = task({ name: "unknown-options.echo" }, (n: number) => n);
const flow = workflow({ name: "unknown-options.flow" }, function* (n: number) {
  return (yield* step(echo(n))).result;
});
const queue = new Queue("memory://?instantProcessing=false", { name: "unknown-options" });

async function refusal(call: () => unknown): Promise<Error> {
  try {
    await call();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a refusal");
}

describe("unknown options are refused, naming the entry point, the key and the valid ones", () => {
  const cases: [
    string,
    () => unknown,
    string,
    typeof InvalidOptionError | typeof BackendUrlError,
  ][] = [
    [
      "new Queue()",
      () => new Queue("memory://", { nmae: "emails" } as never),
      "new Queue(): unknown option 'nmae'; did you mean 'name'? (valid options: name, clock, maxPayloadBytes)",
      InvalidOptionError,
    ],
    [
      "queue.addCron() options",
      () => queue.addCron(echo(1), "* * * * *", { timezon: "UTC" } as never),
      "queue.addCron(): unknown option 'timezon'; did you mean 'timezone'? (valid options: timezone)",
      CronExpressionError,
    ],
    [
      "queue.addWorkflow() options",
      () => queue.addWorkflow(flow(1), { Id: "order-1" } as never),
      "queue.addWorkflow(): unknown option 'Id'; did you mean 'id'? (valid options: id)",
      InvalidOptionError,
    ],
    [
      "queue.add() concurrency",
      () => queue.add(echo(1), { concurrency: { key: "k", limt: 2 } } as never),
      "queue.add(): concurrency has unknown option 'limt'; did you mean 'limit'? (known: key, limit)",
      InvalidOptionError,
    ],
    [
      "new RedisBackend() with a URL",
      () => new RedisBackend("redis://:s3cret@h:6379" as never),
      'RedisBackend: options must be an object (got string); a URL goes in them as { url: "redis://****@h:6379" }',
      InvalidOptionError,
    ],
    [
      "worker.close()",
      () => new Worker(queue).close({ forse: true } as never),
      "worker.close(): unknown option 'forse'; did you mean 'force'? (valid options: force)",
      InvalidOptionError,
    ],
    [
      "worker.close() force",
      () => new Worker(queue).close({ force: "yes" } as never),
      'worker.close(): force must be true or false (got "yes")',
      InvalidOptionError,
    ],
    [
      "queue.add()",
      () => queue.add(echo(1), { dedup: { key: "k" } } as never),
      "queue.add(): unknown option 'dedup'; did you mean 'dedupe'? (valid options: tx, priority, concurrency, dedupe, id)",
      InvalidOptionError,
    ],
    [
      "queue.schedule()",
      () => queue.schedule(echo(1), 60, { prio: 1 } as never),
      "queue.schedule(): unknown option 'prio' (valid options: tx, priority, concurrency, dedupe, id)",
      InvalidOptionError,
    ],
    [
      "queue.waitFor()",
      () => queue.waitFor(echo(1), { timout: 1 } as never),
      "queue.waitFor(): unknown option 'timout'; did you mean 'timeout'? (valid options: timeout, signal)",
      InvalidOptionError,
    ],
    [
      "queue.listTasks()",
      () => queue.listTasks({ statuses: ["failed"] } as never),
      "queue.listTasks(): unknown option 'statuses'; did you mean 'status'? (valid options: status, name, concurrencyKey, dedupeKey, error, since, before, cursor, limit)",
      InvalidOptionError,
    ],
    [
      "queue.retryAll()",
      () => queue.retryAll({ statuss: "crashed" } as never),
      "queue.retryAll(): unknown option 'statuss'; did you mean 'status'? (valid options: status, since, before, name, concurrencyKey, error, batchSize, dryRun)",
      InvalidOptionError,
    ],
    [
      "queue.cancelAll()",
      () => queue.cancelAll({ concurencyKey: "tenant:a" } as never),
      "queue.cancelAll(): unknown option 'concurencyKey'; did you mean 'concurrencyKey'? (valid options: status, name, concurrencyKey, force, batchSize, dryRun)",
      InvalidOptionError,
    ],
    [
      "queue.events()",
      () => queue.events({ afterr: "start" } as never).next(),
      "queue.events(): unknown option 'afterr'; did you mean 'after'? (valid options: after, signal, batchSize, types, follow)",
      InvalidOptionError,
    ],
    [
      "createHttpHandler()",
      () => createHttpHandler(queue.backend, { readonly: true } as never),
      "createHttpHandler(): unknown option 'readonly'; did you mean 'readOnly'? (valid options: basePath, authorize, readOnly, allowedOrigins, allowedHosts, maxEventStreams, maxBodyBytes, exposeErrors, logger, dashboard, extraQueryParameters, addableTasks, queues)",
      InvalidOptionError,
    ],
    [
      "new MemoryBackend()",
      () => new MemoryBackend({ instantProccessing: false } as never),
      "MemoryBackend: unknown option 'instantProccessing'",
      InvalidOptionError,
    ],
    [
      "new PostgresBackend()",
      () => new PostgresBackend({ url: "postgres://h/db", shcema: "x" } as never),
      "PostgresBackend: unknown option 'shcema'; did you mean 'schema'? (valid options: url, schema, createSchema, poolSize, pool, maxPayloadBytes, clock, logger, unavailableAfter, pollInterval, preparedStatements, listenUrl, ttl, errorTtl, maxFinished, maxFailed, eventCap)",
      InvalidOptionError,
    ],
    [
      "new RedisBackend()",
      () => new RedisBackend({ url: "redis://h", prefx: "app" } as never),
      "RedisBackend: unknown option 'prefx'; did you mean 'prefix'? (valid options: url, prefix, maxPayloadBytes, redisOptions, cluster, waitReplicas, waitReplicasTimeout, clusterOptions, clock, logger, unavailableAfter, ttl, errorTtl, maxFinished, maxFailed, eventCap)",
      InvalidOptionError,
    ],
    [
      "new SqliteBackend()",
      () => new SqliteBackend({ path: ":memory:", busyTimout: 100 } as never),
      "SqliteBackend: unknown option 'busyTimout'; did you mean 'busyTimeout'? (valid options: path, create, url, synchronous, busyTimeout, maxPayloadBytes, clock, logger, ttl, errorTtl, maxFinished, maxFailed, eventCap)",
      InvalidOptionError,
    ],
    [
      "memory:// parameters",
      () => new Queue("memory://?instantProcesing=false"),
      "unknown parameter 'instantProcesing'; did you mean 'instantProcessing'?",
      BackendUrlError,
    ],
    [
      "memory:// parameters far from any",
      () => new Queue("memory://?fast=1"),
      "unknown parameter 'fast' (known: instantProcessing, maxPayloadBytes, eventCap, ttl, errorTtl, maxFinished, maxFailed)",
      BackendUrlError,
    ],
  ];
  it.each(cases)("%s", async (_where, call, message, type) => {
    const error = await refusal(call);
    expect(error).toBeInstanceOf(type);
    expect(error.message).toContain(message);
    expect(error.message).not.toContain("\n");
  });

  it("options that are not an object are refused too", async () => {
    const error = await refusal(() => queue.waitFor(echo(1), 5 as never));
    expect(error.message).toBe("queue.waitFor(): options must be an object (got number)");
    // A URL where the options go: the backend would otherwise connect to its default.
    const url = await refusal(() => new PostgresBackend("postgres://h/db" as never));
    expect(url.message).toBe(
      'PostgresBackend: options must be an object (got string); a URL goes in them as { url: "postgres://h/db" }',
    );
  });

  it("a misspelt backend option is refused before the URL is read (the typo is the first fault)", async () => {
    const error = await refusal(
      () => new RedisBackend({ url: "redis://h/notadb", prefx: "app" } as never),
    );
    expect(error.message).toMatch(/^RedisBackend: unknown option 'prefx'/);
  });

  it("new Queue() with something that is no backend nor URL says so at once", async () => {
    for (const given of [{ url: "memory://" }, 123, true]) {
      const error = await refusal(() => new Queue(given as never));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.message).toMatch(/^new Queue\(\): the first argument must be a backend/);
    }
  });

  it("the documented options are accepted", async () => {
    const added = echo(2);
    expect(await queue.add(added, { priority: 1 })).toBe(true);
    expect((await queue.waitFor(added, { timeout: 0 }).catch((e: Error) => e)).name).toBe(
      "WaitTimeoutError",
    );
    expect((await queue.listTasks({ status: "pending", limit: 5 })).tasks).toHaveLength(1);
    expect(createHttpHandler(queue.backend, { readOnly: true, basePath: "/x" })).toBeTypeOf(
      "function",
    );
    // Constructing connects nothing: these only have their options checked.
    expect(
      new PostgresBackend({ url: "postgres://h/db", schema: "jobs", poolSize: 2 }).schema,
    ).toBe("jobs");
    expect(new RedisBackend({ url: "redis://h", prefix: "app", waitReplicas: 1 }).prefix).toBe(
      "app",
    );
    expect(new SqliteBackend({ path: ":memory:", busyTimeout: 100 }).path).toBe(":memory:");
  });
});
