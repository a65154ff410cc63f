/**
 * Worker processes for the fault scenarios: the crash-worker test fixture,
 * started with the scenario's lease timings and timed execution records.
 * Everything a worker says is kept with the time it was heard — its
 * takeovers of other workers' tasks ("reclaimed <id>"), its warnings (pino
 * JSON lines) and anything on stderr — because that is where a takeover from
 * a live worker or a crash of the worker process shows up.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { track } from "./cleanup.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

export interface WorkerSettings {
  /** Backend URL (the private server). */
  url: string;
  prefix: string;
  queue: string;
  concurrency?: number;
  /** Seconds, as the worker options take them. */
  heartbeat?: number;
  lease?: number;
  reclaim?: number;
  unavailableAfter?: number;
  /** More task modules for the worker to load (paths from the repository root). */
  taskModules?: readonly string[];
}

export interface Reclaimed {
  readonly id: string;
  readonly at: number;
  readonly claimedAt: number | null;
}

export interface Heard {
  at: number;
  text: string;
}

export class WorkerProcess {
  readonly child: ChildProcess;
  readonly startedAt = Date.now();
  readonly ready: Promise<void>;
  /** Takeovers this worker made: the task id, when it said so, and when the taken-over attempt was claimed. */
  readonly reclaimed: Reclaimed[] = [];
  /** Warning and error messages it logged, by message. */
  readonly logged = new Map<string, number>();
  readonly stderr: Heard[] = [];
  killedAt: number | undefined;
  exit: { code: number | null; signal: NodeJS.Signals | null; at: number } | undefined;
  readonly exited: Promise<void>;

  constructor(settings: WorkerSettings) {
    const env: Record<string, string> = {
      TEST_REDIS_URL: settings.url,
      TEST_PREFIX: settings.prefix,
      TEST_QUEUE: settings.queue,
      TEST_CONCURRENCY: String(settings.concurrency ?? 10),
      TEST_HEARTBEAT: String(settings.heartbeat ?? 0.2),
      TEST_LEASE: String(settings.lease ?? 1),
      TEST_RECLAIM: String(settings.reclaim ?? 0.2),
      TEST_UNAVAILABLE_AFTER: String(settings.unavailableAfter ?? 10),
      TEST_RECORD_TIMES: "1",
      TEST_TASK_MODULES: (settings.taskModules ?? []).join(","),
    };
    this.child = track(
      spawn(process.execPath, ["--import", "tsx", "test/fixtures/crash-worker.ts"], {
        cwd: root,
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      }),
    );
    this.exited = new Promise((resolve) =>
      this.child.once("exit", (code, signal) => {
        this.exit = { code, signal, at: Date.now() };
        resolve();
      }),
    );
    let readyResolve: () => void = () => undefined;
    this.ready = new Promise((resolve) => {
      readyResolve = resolve;
    });
    this.#lines(this.child.stdout, (line) => {
      if (line === "ready") readyResolve();
      else if (line.startsWith("reclaimed ")) {
        const [, id = "", claimed] = line.split(" ");
        this.reclaimed.push({ id, at: Date.now(), claimedAt: claimed ? Number(claimed) : null });
      } else this.#log(line);
    });
    this.#lines(this.child.stderr, (line) => this.stderr.push({ at: Date.now(), text: line }));
    // FAULTS_LOG_DIR keeps each worker's whole output, to trace a finding back to what the worker did.
    const logDir = process.env.FAULTS_LOG_DIR;
    if (logDir) {
      const file = createWriteStream(join(logDir, `worker-${this.pid}.log`));
      this.child.stdout?.on("data", (chunk: string) => file.write(chunk));
      this.child.stderr?.on("data", (chunk: string) => file.write(chunk));
      this.child.once("exit", () => file.end());
    }
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** Resolves once the worker is working; rejects when it exits first or takes longer than `ms`. */
  whenReady(ms = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`worker ${this.pid} not ready within ${ms} ms`)),
        ms,
      );
      void this.ready.then(() => {
        clearTimeout(timer);
        resolve();
      });
      void this.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`worker exited before it was ready: ${this.stderrText()}`));
      });
    });
  }

  /** What the worker wrote on stderr, as one text. */
  stderrText(): string {
    return this.stderr.map((h) => h.text).join("\n");
  }

  /** SIGKILL, noting when: a dead worker's tasks are measured from this instant. */
  kill(): void {
    this.killedAt = Date.now();
    this.child.kill("SIGKILL");
  }

  /** Graceful stop (SIGTERM); a worker that does not exit within `ms` is killed and reported so. */
  async stop(ms = 20_000): Promise<void> {
    if (!this.alive) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), ms);
    await this.exited;
    clearTimeout(timer);
  }

  /** Warning lines it logged whose message contains `text`. */
  count(text: string): number {
    let total = 0;
    for (const [message, n] of this.logged) if (message.includes(text)) total += n;
    return total;
  }

  #log(line: string): void {
    let message = line;
    if (line.startsWith("{")) {
      try {
        const parsed = JSON.parse(line) as { msg?: unknown };
        if (typeof parsed.msg === "string") message = parsed.msg;
      } catch {
        // Not one of pino's lines: kept as it is.
      }
    }
    this.logged.set(message, (this.logged.get(message) ?? 0) + 1);
  }

  #lines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
    if (!stream) return;
    stream.setEncoding("utf8");
    let rest = "";
    stream.on("data", (chunk: string) => {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop() ?? "";
      for (const part of parts) if (part.trim() !== "") onLine(part.trim());
    });
  }
}

/** Starts `count` workers and waits until all are working. */
export async function startWorkers(
  count: number,
  settings: WorkerSettings,
): Promise<WorkerProcess[]> {
  const workers = Array.from({ length: count }, () => new WorkerProcess(settings));
  await Promise.all(workers.map((w) => w.whenReady()));
  return workers;
}

/** Every takeover any of `workers` made. */
export function takeovers(workers: readonly WorkerProcess[]): Reclaimed[] {
  return workers.flatMap((w) => w.reclaimed).sort((a, b) => a.at - b.at);
}
