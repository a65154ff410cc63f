/**
 * @module execution/sandbox-thread-mark
 * Whether this thread is a sandbox thread. A sandbox thread imports the
 * module that defines its task; when that module is the program's entry
 * script, its top level runs again there — and a worker it starts would
 * claim tasks, run sandboxed ones and start more threads, one inside the
 * other, without end. Marked on `globalThis` under a registered symbol, so
 * every copy of Sheppy loaded in the thread sees the same mark.
 */
const MARK = Symbol.for("sheppy.sandbox-thread");

/** Marks this thread as a sandbox thread (the thread's entry does, before it imports anything of the user's). */
export function markSandboxThread(): void {
  (globalThis as Record<symbol, unknown>)[MARK] = true;
}

/** Whether this thread is a sandbox thread. */
export function inSandboxThread(): boolean {
  return (globalThis as Record<symbol, unknown>)[MARK] === true;
}
