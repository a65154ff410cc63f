/**
 * @module execution/sandbox
 * Runs `sandbox: true` tasks in worker threads, so a CPU-heavy synchronous
 * function cannot starve the worker's other tasks, and a task that ignores its
 * AbortSignal can still be stopped: on timeout or interruption the thread is
 * terminated (a hard stop) and replaced. Threads are pooled, at most one per
 * CPU, and do not keep the process alive when idle.
 */
import { availableParallelism } from "node:os";
import { Worker as Thread } from "node:worker_threads";
import { SandboxError } from "../errors.js";
import { activeCarrier } from "../observability/tracing.js";
import { TaskError } from "../task/stored-error.js";
import type { TaskData } from "../task/task-record.js";
import { bundleOf } from "../util/own-location.js";
import type { AttemptState } from "./run-context.js";
import {
  type ReportMessage,
  type RunReply,
  type RunRequest,
  unpackResult,
} from "./sandbox-protocol.js";

/** The thread's entry files beside this module, found once. */
interface ThreadFiles {
  readonly bootstrapUrl: URL;
  readonly threadUrl: string;
  readonly runningFromSource: boolean;
}

let threadFiles: ThreadFiles | undefined;

/**
 * The thread's entry files beside this module. A bundler that copied Sheppy
 * into the application's bundle left them behind (or left this module no URL
 * at all): that is said in one line instead of a thread that dies at start.
 */
function filesOfThread(): ThreadFiles {
  if (threadFiles) return threadFiles;
  const ownUrl = import.meta.url as string | undefined;
  const bundle = bundleOf(ownUrl, "execution/sandbox");
  if (bundle !== null || typeof ownUrl !== "string") {
    throw new SandboxError(
      `a sandboxed task runs in a thread started from sheppy's own files, and a bundler copied sheppy into ${bundle}: mark sheppy external in the bundler's settings so it loads from node_modules`,
    );
  }
  const runningFromSource = ownUrl.endsWith(".ts");
  const bootstrapUrl = new URL("./sandbox-bootstrap.mjs", ownUrl);
  const threadUrl = new URL(
    runningFromSource ? "./sandbox-thread.ts" : "./sandbox-thread.js",
    ownUrl,
  ).href;
  threadFiles = { bootstrapUrl, threadUrl, runningFromSource };
  return threadFiles;
}

/** TypeScript modules (and this file, when run from source) need tsx inside the thread too. */
function needsTsx(module: string, runningFromSource: boolean): boolean {
  return runningFromSource || /\.[mc]?tsx?$/.test(new URL(module).pathname);
}

class SandboxPool {
  readonly #idle: Thread[] = [];
  readonly #waiting: (() => void)[] = [];
  #size = 0;

  constructor(readonly maxThreads: number) {}

  async acquire(module: string): Promise<Thread> {
    for (;;) {
      const idle = this.#idle.pop();
      if (idle) {
        idle.ref();
        return idle;
      }
      if (this.#size < this.maxThreads) {
        const { bootstrapUrl, threadUrl, runningFromSource } = filesOfThread();
        this.#size++;
        return new Thread(bootstrapUrl, {
          workerData: { threadUrl, tsx: needsTsx(module, runningFromSource) },
        });
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
  }

  release(thread: Thread): void {
    thread.unref();
    this.#idle.push(thread);
    this.#waiting.shift()?.();
  }

  /** Forgets a thread that was terminated or died. */
  discard(thread: Thread): void {
    this.#size--;
    void thread.terminate();
    this.#waiting.shift()?.();
  }
}

let pool: SandboxPool | undefined;

/**
 * The function to call instead of the task's own: same arguments, runs in a
 * thread. `onStarted` is called when the task function starts there — after
 * any wait for a free thread, the thread's start and the module's import.
 */
export function sandboxed(
  module: string,
  state: AttemptState,
  onStarted?: () => void,
): (...args: unknown[]) => Promise<unknown> {
  return (...args) => runInThread(module, state, args, onStarted);
}

async function runInThread(
  module: string,
  state: AttemptState,
  args: unknown[],
  onStarted: (() => void) | undefined,
): Promise<unknown> {
  pool ??= new SandboxPool(Math.max(1, availableParallelism()));
  const thread = await pool.acquire(module);
  const request: RunRequest = {
    module,
    queueName: state.queueName,
    data: state.data as TaskData,
    args,
    trace: activeCarrier(),
  };
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (keep: boolean) => {
      settled = true;
      thread.off("message", onMessage);
      thread.off("error", onError);
      thread.off("exit", onExit);
      state.signal.removeEventListener("abort", onAbort);
      state.stopping.removeEventListener("abort", onStopping);
      if (keep) pool!.release(thread);
      else pool!.discard(thread);
    };
    const onMessage = (reply: RunReply | ReportMessage) => {
      if ("report" in reply) {
        if (reply.report === "started") {
          onStarted?.();
          return;
        }
        // The attempt's own reports, made in the thread; a bad value fails only that call there.
        try {
          if (reply.report === "progress") state.reports?.progress(reply.value);
          else state.reports?.log(reply.line);
        } catch {
          // Checked in the thread already.
        }
        return;
      }
      finish(true);
      if (reply.ok) resolve(unpackResult(reply.value));
      else reject(new TaskError(reply.error).toError());
    };
    const onError = (error: Error) => {
      finish(false);
      reject(new SandboxError(`sandbox thread failed: ${error.message}`, { cause: error }));
    };
    const onExit = (code: number) => {
      if (settled) return;
      finish(false);
      reject(
        new SandboxError(
          `sandbox thread exited with code ${code} while running the task (the thread loads the task's module: a module that also starts the application when loaded — a bundle's entry, a worker script — can end it; define sandboxed tasks in a module that only defines tasks, or start the application only when isMainThread)`,
        ),
      );
    };
    // A timeout or an interruption is a hard stop here: the thread goes, with whatever it was doing.
    const onAbort = () => {
      if (settled) return;
      finish(false);
      reject(state.signal.reason);
    };
    // The worker began to shut down: told to the thread, where the task's `stopping` fires.
    const onStopping = () => {
      if (!settled) thread.postMessage({ stopping: true });
    };
    thread.on("message", onMessage);
    thread.on("error", onError);
    thread.on("exit", onExit);
    state.signal.addEventListener("abort", onAbort, { once: true });
    if (state.signal.aborted) onAbort();
    else {
      thread.postMessage(request);
      state.stopping.addEventListener("abort", onStopping, { once: true });
      if (state.stopping.aborted) onStopping();
    }
  });
}
