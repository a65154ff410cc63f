/**
 * The set-up most scenarios share: a private server for the queue, a second
 * private server the tasks record their executions on (never faulted, so the
 * record survives what the first one goes through — a restart without
 * persistence included), a producer queue, and the worker processes. `close`
 * takes all of it down; the campaign's exit hooks catch whatever a failing
 * scenario leaves.
 */
import type { Redis } from "ioredis";
import { type Logger, Queue, type Task } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { recordedWork } from "../../test/fixtures/crash-tasks.js";
import { type ExecutionReport, readExecutions } from "./executions.js";
import type { Outcome } from "./outcome.js";
import { PrivateServer, type ServerOptions } from "./private-server.js";
import type { RunResult } from "./report.js";
import { startWorkers, type WorkerProcess, type WorkerSettings } from "./workers.js";

/** A logger that counts what the runner's own backends warn about instead of printing it among the figures. */
export class CountingLogger implements Logger {
  readonly counts = new Map<string, number>();
  debug(): void {}
  info(): void {}
  warn(objOrMsg: object | string, msg?: string): void {
    this.#count(objOrMsg, msg);
  }
  error(objOrMsg: object | string, msg?: string): void {
    this.#count(objOrMsg, msg);
  }
  #count(objOrMsg: object | string, msg?: string): void {
    const text = msg ?? (typeof objOrMsg === "string" ? objOrMsg : "(no message)");
    this.counts.set(text, (this.counts.get(text) ?? 0) + 1);
  }
}

export interface RigOptions {
  server?: ServerOptions;
  worker?: Partial<WorkerSettings>;
  /** The producer's `unavailableAfter`, seconds. */
  producerUnavailableAfter?: number;
}

export class Rig {
  readonly workers: WorkerProcess[] = [];
  readonly prefix = "faults";
  readonly queueName: string;
  readonly logger = new CountingLogger();
  readonly producer: Queue;
  readonly recorder: Redis;

  private constructor(
    readonly server: PrivateServer,
    readonly recorderServer: PrivateServer,
    private readonly options: RigOptions,
    name: string,
  ) {
    this.queueName = name;
    this.recorder = recorderServer.admin();
    this.producer = this.queue(options.producerUnavailableAfter);
  }

  static async open(name: string, options: RigOptions = {}): Promise<Rig> {
    const [server, recorderServer] = await Promise.all([
      PrivateServer.start(options.server),
      PrivateServer.start(),
    ]);
    return new Rig(server, recorderServer, options, name);
  }

  /** A queue of its own on the private server (its own connections). */
  queue(unavailableAfter = 10, redisOptions = {}): Queue {
    return new Queue(
      new RedisBackend({
        url: this.server.url,
        prefix: this.prefix,
        logger: this.logger,
        unavailableAfter,
        redisOptions,
      }),
      { name: this.queueName },
    );
  }

  /** Starts `count` more workers with the rig's settings (and `overrides`). */
  async spawn(count: number, overrides: Partial<WorkerSettings> = {}): Promise<WorkerProcess[]> {
    const started = await startWorkers(count, {
      url: this.server.url,
      prefix: this.prefix,
      queue: this.queueName,
      ...this.options.worker,
      ...overrides,
    });
    this.workers.push(...started);
    return started;
  }

  /** `count` recorded tasks of `workMs` each; their executions are recorded on the recorder server. */
  tasks(count: number, workMs: number, from = 0): Task<number>[] {
    return Array.from({ length: count }, (_, i) =>
      recordedWork(this.recorderServer.url, this.prefix, from + i, workMs),
    );
  }

  /** Pid → kill time of every worker this rig killed. */
  deaths(): Map<number, number> {
    const deaths = new Map<number, number>();
    for (const w of this.workers) if (w.killedAt !== undefined) deaths.set(w.pid, w.killedAt);
    return deaths;
  }

  executions(): Promise<ExecutionReport> {
    return readExecutions(this.recorder, this.prefix, this.deaths());
  }

  /** Stops live workers gracefully and notes any that did not exit with 0. */
  async stopWorkers(findings: string[]): Promise<void> {
    const live = this.workers.filter((w) => w.alive);
    await Promise.all(live.map((w) => w.stop()));
    for (const w of live) {
      if (w.exit?.code !== 0) {
        findings.push(
          `worker ${w.pid} did not exit cleanly on SIGTERM (code ${w.exit?.code}, signal ${w.exit?.signal}): ${w.stderrText().slice(0, 500)}`,
        );
      }
    }
  }

  /** Workers that died without being killed by the scenario: a crash of the worker process. */
  crashedWorkers(): WorkerProcess[] {
    return this.workers.filter((w) => w.killedAt === undefined && w.exit && w.exit.code !== 0);
  }

  async close(): Promise<void> {
    for (const w of this.workers) if (w.alive) w.kill();
    await Promise.all(this.workers.map((w) => w.exited));
    await this.producer.close().catch(() => undefined);
    await Promise.all([this.server.destroy(), this.recorderServer.destroy()]);
  }
}

/**
 * The figures every scenario reports, from the outcome and the executions.
 * A task whose add was refused (`refused`) and that is missing is not lost:
 * its caller was told it was not added.
 */
export function baseResult(
  added: number,
  outcome: Outcome,
  executions: ExecutionReport,
  refused: ReadonlySet<string> = new Set(),
): RunResult {
  const missing = outcome.missing.filter((id) => !refused.has(id));
  const lost = [...missing, ...outcome.unfinished];
  return {
    added,
    completed: outcome.statuses.completed ?? 0,
    statuses: outcome.statuses,
    lost: lost.length,
    lostSample: lost.slice(0, 3),
    runTwice: executions.runTwice.length,
    overlapped: executions.overlapped.length,
    recoverMs: null,
    figures: [],
    findings: [],
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
