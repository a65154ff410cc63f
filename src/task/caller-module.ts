/**
 * @module task/caller-module
 * Which module called `task()`: a sandboxed task's worker thread imports that
 * module itself to find the function, so the definition site must be known.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isMainThread } from "node:worker_threads";

/**
 * The stack above `above` (a function on it, left out with everything it
 * called), as call sites: `limit` frames at most.
 */
export function callSitesAbove(
  above: (...args: never[]) => unknown,
  limit = 10,
): NodeJS.CallSite[] {
  const original = Error.prepareStackTrace;
  const originalLimit = Error.stackTraceLimit;
  try {
    Error.prepareStackTrace = (_, frames) => frames;
    Error.stackTraceLimit = limit;
    const holder: { stack?: NodeJS.CallSite[] } = {};
    Error.captureStackTrace(holder, above);
    return holder.stack ?? [];
  } finally {
    Error.prepareStackTrace = original;
    Error.stackTraceLimit = originalLimit;
  }
}

/**
 * The file URL of the module that called `task()`: the first stack frame
 * outside Sheppy's own task module. `undefined` when it cannot be told.
 */
export function callerModule(): string | undefined {
  for (const frame of callSitesAbove(callerModule)) {
    const file = frame.getFileName();
    if (!file || file.startsWith("node:") || /[\\/]task[\\/]define-task\.[jt]s$/.test(file))
      continue;
    return file.startsWith("file:") ? file : new URL(`file://${file}`).href;
  }
  return undefined;
}

/**
 * Whether `module` (a file URL) is the script this process was started with.
 * Only in the main thread: a sandbox thread importing that script again is
 * what a caller is warned about, not something to warn about once more.
 */
export function isEntryScript(module: string): boolean {
  const entry = process.argv[1];
  if (!isMainThread || entry === undefined) return false;
  try {
    return (
      pathToFileURL(realpathSync(entry)).href ===
      pathToFileURL(realpathSync(fileURLToPath(module))).href
    );
  } catch {
    return false;
  }
}
