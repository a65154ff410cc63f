/**
 * @module execution/sandbox-thread
 * The body of a sandbox thread: imports the module that defines a task, runs
 * the task function with `currentTask()` and `use()` working as usual, and
 * posts the result or the error back. One call at a time per thread.
 */
import { parentPort } from "node:worker_threads";
import { SerializationError } from "../errors.js";
import { context, extractContext } from "../observability/tracing.js";
import { errorToData } from "../task/stored-error.js";
import { findTask } from "../task/task-registry.js";
import { runTeardowns } from "./dependencies.js";
import { progressValue } from "./progress-reporter.js";
import { taskResultJson } from "./result-json.js";
import { AttemptState, runScope } from "./run-context.js";
import {
  packResult,
  type ReportMessage,
  type RunReply,
  type RunRequest,
} from "./sandbox-protocol.js";
import { markSandboxThread } from "./sandbox-thread-mark.js";

const port = parentPort;
if (!port) throw new Error("sandbox-thread must run in a worker thread");
markSandboxThread();
let current: AttemptState | undefined;

port.on("message", async (message: RunRequest | { abort: string } | { stopping: true }) => {
  if ("abort" in message) {
    // Cooperative first: the signal fires; the worker terminates the thread if the function ignores it.
    current?.abort(new Error(message.abort));
    return;
  }
  if ("stopping" in message) {
    // The worker began to shut down: the task's `stopping` fires here as it would in the worker.
    current?.requestStop();
    return;
  }
  let reply: RunReply;
  const state = new AttemptState(message.data, message.queueName, undefined);
  // Reports go to the worker, which writes them as it does for any task.
  state.reports = {
    progress: (value) =>
      port.postMessage({
        report: "progress",
        value: progressValue(value, message.data.name),
      } satisfies ReportMessage),
    log: (line) => port.postMessage({ report: "log", line } satisfies ReportMessage),
  };
  current = state;
  try {
    await import(message.module);
    const definition = findTask(message.data.name);
    if (!definition) {
      throw new Error(
        `module ${message.module} does not define a task named '${message.data.name}'`,
      );
    }
    const fn = definition.fn as (...args: unknown[]) => unknown;
    port.postMessage({ report: "started" } satisfies ReportMessage);
    const run = () =>
      runScope.run({ attempt: state, resolving: [] }, async () => fn(...message.args));
    // Spans the task makes here nest under its attempt's span once the module registers an SDK in this thread.
    const value = await (message.trace ? context.with(extractContext(message.trace), run) : run());
    const packed = packResult(value);
    // Judged here, as the worker judges a result it runs inline: the clone that carries it across
    // would turn a class instance into a plain object. A result schema's output is judged there.
    const storable = packed !== value || definition.resultSchema;
    reply = { ok: true, value: storable ? packed : taskResultJson(definition.name, value) };
  } catch (error) {
    reply = { ok: false, error: errorToData(error) };
  } finally {
    if (state.hasTeardowns) await runTeardowns(state.teardowns);
    current = undefined;
  }
  try {
    port.postMessage(reply);
  } catch (error) {
    // A result left to the worker's judgement (a result schema's input) that cannot be cloned.
    const refused = new SerializationError(
      `task '${message.data.name}' returned a value that cannot leave its sandbox thread: ${errorToData(error).message}`,
    );
    port.postMessage({ ok: false, error: errorToData(refused) } satisfies RunReply);
  }
});
