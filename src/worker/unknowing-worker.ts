/**
 * @module worker/unknowing-worker
 * A worker finds the code to run by the name stored in a task, in the task
 * registry of the copy of Sheppy it was made with. Started with none defined
 * there — the task modules not imported, or imported through another copy of
 * Sheppy (a second install, or one install loaded twice: as an ES module and,
 * by a `require()` hook such as tsx's in a CommonJS package, as CommonJS) —
 * it would put back every task it claims for the whole unknown-task grace
 * before any fails. Said once, at the start, with what to change.
 */
import type { Logger } from "../observability/logger.js";
import { twoCopiesNote } from "../task/loaded-copies.js";
import { registeredTaskNames } from "../task/task-registry.js";

/** Warns when this worker knows no task, or when another copy of Sheppy may hold the tasks. */
export function warnIfUnknowing(logger: Logger, unknownTaskGraceMs: number): void {
  const known = registeredTaskNames().length;
  const twoCopies = twoCopiesNote();
  if (known > 0 && twoCopies === undefined) return;
  const grace = `${unknownTaskGraceMs / 1000} s`;
  logger.warn(
    { knownTasks: known },
    known === 0
      ? `this worker knows no tasks: import the modules that define them before work() — every task it claims is put back for another worker, and fails after ${grace}${twoCopies ? `; ${twoCopies}` : ""}`
      : `${twoCopies}; a task defined with the other copy is unknown to this worker, which puts it back, and it fails after ${grace}`,
  );
}
