/**
 * @module task/caller-module
 * Which module called `task()`: a sandboxed task's worker thread imports that
 * module itself to find the function, so the definition site must be known.
 */

/**
 * The file URL of the module that called `task()`: the first stack frame
 * outside Sheppy's own task module. `undefined` when it cannot be told.
 */
export function callerModule(): string | undefined {
  const original = Error.prepareStackTrace;
  try {
    Error.prepareStackTrace = (_, frames) => frames;
    const holder: { stack?: NodeJS.CallSite[] } = {};
    Error.captureStackTrace(holder, callerModule);
    const frames = holder.stack ?? [];
    for (const frame of frames) {
      const file = frame.getFileName();
      if (!file || file.startsWith("node:") || /[\\/]task[\\/]define-task\.[jt]s$/.test(file))
        continue;
      return file.startsWith("file:") ? file : new URL(`file://${file}`).href;
    }
    return undefined;
  } finally {
    Error.prepareStackTrace = original;
  }
}
