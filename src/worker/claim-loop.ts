/**
 * @module worker/claim-loop
 * One queue's claim loop: reserve free slots (never more than `prefetch`,
 * what `maxTasks` still allows, or what keeps the tasks held — running, or
 * their outcome not yet stored — within four times the concurrency), claim that
 * many tasks in one backend call,
 * start them, repeat until the run stops. A loop of a worker serving several
 * queues waits for work holding no slot when its queue is empty or paused. Slots and claims not used are given
 * back at once. A oneshot run ends the loop when the queue comes back empty
 * and nothing in flight can add to it any more. Tasks with a rate limit are
 * checked before they start; those over it are put off to their slot. A
 * stop ends the loop at once, even while a claim is unanswered (see
 * `worker/late-claims`).
 */
import type { ClaimedTask } from "../backends/backend.js";
import { systemClock } from "../clock.js";
import type { Queue } from "../queue/queue.js";
import { isResumeTaskName } from "../task/workflow-resume-task.js";
import { Backoff } from "./backoff.js";
import type { WorkRun } from "./work-run.js";
import type { WorkerContext } from "./worker-context.js";

/**
 * Longest the loop runs without letting the event loop turn. On a backend
 * whose calls finish without waiting for I/O (SQLite, memory), claiming,
 * running fast tasks and claiming again happens in promise callbacks alone:
 * without a turn, timers (lease renewals, task timeouts), signals (SIGINT,
 * SIGTERM) and batched settles would wait until the queue ran dry.
 */
const MAX_TURN_MS = 10;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Claims and starts tasks of `queue` until `run` stops, reaches `maxTasks`, or (oneshot) runs dry. */
export async function runClaimLoop(
  context: WorkerContext,
  queue: Queue,
  run: WorkRun,
): Promise<void> {
  const { events, slots, flights, gate } = context;
  const { logger, prefetch, claimWaitMs, concurrency, leaseMs } = context.options;
  // A slot is free once its function returns, before its outcome is stored: tasks held is
  // running ones plus outcomes on their way to the store. If the worker dies, every held
  // task runs again, so a slow store must not let outcomes pile up: at most three times
  // `concurrency` of them, on top of the running tasks. Not fewer: a fast store has several
  // settle calls in flight at once, and a bound of one `concurrency` of outcomes held a Redis
  // drain of no-op tasks back by about a fifth.
  const mostHeld = 4 * concurrency;
  // Other queues' claim loops take slots from the same pool.
  const sharesSlots = context.queues.length > 1;
  const backoff = new Backoff();
  const stop = run.stop.signal;
  const { budget } = run;
  // Tasks a claim answered after the stop are not run: they go straight back. The stop also
  // ends a claim's wait for work, so an idle worker closes without sitting the wait out.
  const claimTasks = (limit: number, waitMs: number, waitSignal = waitEnd()) =>
    run.late.unlessStopped(
      queue.backend.claim(queue.name, limit, waitMs, waitSignal, leaseMs),
      stop,
      (late) => flights.release(queue, late),
    );
  // A claim's wait for work also ends when the worker pauses. One combined signal per reopening
  // of the gate, not per wait: a combined signal stays listed on its sources while they live.
  let closingSeen: AbortSignal | undefined;
  let waitEnded = stop;
  function waitEnd(): AbortSignal {
    if (closingSeen !== gate.closing) {
      closingSeen = gate.closing;
      waitEnded = AbortSignal.any([stop, closingSeen]);
    }
    return waitEnded;
  }
  // An idle wait ends on the stop, a pause, or once `maxTasks` is spent. One combined signal per state of
  // the budget, not per wait: a combined signal stays listed on its sources while they live.
  let spentSeen: AbortSignal | undefined;
  let idleBase: AbortSignal | undefined;
  let idleEnd = stop;
  const idleWaitSignal = () => {
    const base = waitEnd();
    if (!budget.finite) return base;
    if (spentSeen !== budget.spent || idleBase !== base) {
      spentSeen = budget.spent;
      idleBase = base;
      idleEnd = AbortSignal.any([base, spentSeen]);
    }
    return idleEnd;
  };
  let turnedAt = performance.now();
  while (!stop.aborted) {
    if (performance.now() - turnedAt > MAX_TURN_MS) {
      await nextTurn();
      turnedAt = performance.now();
      if (stop.aborted) break;
    }
    while (flights.unlanded >= mostHeld && !stop.aborted) await flights.nextLanding(stop);
    if (gate.paused) await gate.whenOpen(stop);
    if (stop.aborted) break;
    // From here until its tasks are started or handed back, this pass is a claim in flight:
    // `worker.pause()` resolves once none is.
    const claim = gate.claimStarted();
    try {
      // Claims first, then slots: a loop holding claims it cannot use gives them back below. A
      // pause ends these waits too.
      const granted = await budget.take(Math.min(prefetch, mostHeld - flights.unlanded), waitEnd());
      if (granted === 0) {
        if (gate.paused && !stop.aborted) continue;
        break;
      }
      const reserved = await slots.reserve(granted, waitEnd());
      if (reserved === 0) {
        budget.settle(0, granted);
        if (gate.paused && !stop.aborted) continue;
        break;
      }
      if (reserved < granted) budget.settle(0, granted - reserved);
      const take = reserved;
      // What this pass holds: slots of the concurrency limit, and claims of the budget.
      let slotsHeld = take;
      let claimsHeld = take;
      const landingsBefore = flights.landings;
      let claimed: ClaimedTask[] | undefined;
      try {
        if (run.oneshot) {
          claimed = await claimTasks(take, 0);
        } else if (!sharesSlots) {
          // One queue: nobody else needs the slots, so wait for work holding all of them.
          claimed = await claimTasks(take, claimWaitMs);
        } else {
          claimed = await claimTasks(take, 0);
          if (claimed?.length === 0 && !stop.aborted) {
            // Idle: wait for work holding no slot and no claim of `maxTasks`, so an empty (or
            // paused) queue never keeps the other queues' tasks waiting; what it then claims takes
            // a claim of `maxTasks` (or goes back), and a slot once one is free.
            slots.release(take);
            budget.settle(0, take);
            slotsHeld = 0;
            claimsHeld = 0;
            // The other queues' tasks may spend `maxTasks` meanwhile: the wait then ends.
            claimed = await claimTasks(1, claimWaitMs, idleWaitSignal());
            if (claimed !== undefined && claimed.length > 0) {
              claimsHeld = budget.tryTake(claimed.length);
              if (claimsHeld < claimed.length) {
                // `maxTasks` is spent (or others wait for what is left): it goes back.
                flights.release(queue, claimed);
                budget.settle(0, claimsHeld);
                continue;
              }
              slotsHeld = slots.tryReserve(claimed.length);
              if (slotsHeld < claimed.length) {
                // Every slot is busy with the other queues' tasks: it waits for one, still claimed.
                if (!(await flights.waitForSlot(queue, claimed[0]!, stop))) {
                  if (stop.aborted) flights.release(queue, claimed);
                  budget.settle(0, claimsHeld);
                  continue;
                }
                slotsHeld = 1;
              }
            }
          }
        }
        // At the level of the warning it ends, so a log of warnings only tells the whole story.
        if (backoff.succeed()) {
          context.health.working("claim", queue.name);
          logger.warn({ queue: queue.name }, "claiming tasks works again");
        }
      } catch (error) {
        slots.release(slotsHeld);
        budget.settle(0, claimsHeld);
        const failure = backoff.fail();
        context.health.failing("claim", queue.name, error);
        events.emit("worker:error", { error, during: "claim" });
        if (failure.first)
          logger.warn(
            { err: error, queue: queue.name },
            "cannot claim tasks; retrying with backoff",
          );
        await systemClock.sleep(failure.delayMs, stop);
        continue;
      }
      if (claimed === undefined) {
        // Stopped while the claim was unanswered: it is not waited for.
        slots.release(slotsHeld);
        budget.settle(0, claimsHeld);
        break;
      }
      if (gate.paused) {
        // Paused while the claim was out: what it brought goes back unstarted.
        if (claimed.length > 0) flights.release(queue, claimed);
        slots.release(slotsHeld);
        budget.settle(0, claimsHeld);
        continue;
      }
      // What it brought is this worker's to run now: a pause from here on stops the next claim.
      claim.end();
      slots.release(slotsHeld - claimed.length);
      // Only tasks with a rate limit, or a name unknown here, pay for the gates; the rest start at once.
      let open = claimed;
      let gated: ClaimedTask[] | undefined;
      if (claimed.some((claim) => flights.needsAdmission(queue, claim))) {
        open = claimed.filter((claim) => !flights.needsAdmission(queue, claim));
        gated = claimed.filter((claim) => flights.needsAdmission(queue, claim));
      }
      // Gated claims stay held until their admission says which start: one put off gives its
      // claim back, so the budget is not spent (and the other loops do not end) before that.
      const gatedCount = gated?.length ?? 0;
      budget.settle(claimed.length - gatedCount, claimsHeld - claimed.length);
      // A workflow's resume is not a task of the user's: it does not count toward maxTasks.
      const resumes = countResumes(claimed);
      if (resumes > 0) budget.refund(resumes);
      if (claimed.length === 0) {
        if (!run.oneshot) continue;
        // An attempt landed during the claim (its retry or children may be pending now): look again.
        if (flights.landings !== landingsBefore) continue;
        if (flights.unlandedIn(queue) === 0) break;
        // A running task may still add work (an immediate retry, chained tasks): look again when one ends.
        await flights.nextLanding(stop);
        continue;
      }
      if (stop.aborted) {
        // Claimed while stopping: hand them straight back.
        flights.release(queue, claimed);
        slots.release(claimed.length);
        budget.settle(gatedCount, 0);
        break;
      }
      for (const started of open) flights.start(queue, started);
      if (gated) await startAdmitted(context, queue, gated, run);
    } finally {
      claim.end();
    }
  }
}

function countResumes(claimed: readonly ClaimedTask[]): number {
  let count = 0;
  for (const claim of claimed) if (isResumeTaskName(claim.record.name)) count++;
  return count;
}

/** Starts the gated claims the pipeline admits; the others are put off (to their rate-limit slot, or for a worker that knows them). */
async function startAdmitted(
  context: WorkerContext,
  queue: Queue,
  claimed: ClaimedTask[],
  run: WorkRun,
): Promise<void> {
  const { slots, flights } = context;
  // Admitted after the stop, they are not started but put back.
  const admission = await run.late.unlessStopped(
    flights.admit(queue, claimed),
    run.stop.signal,
    ({ admitted }) => flights.release(queue, admitted),
  );
  if (admission === undefined) {
    slots.release(claimed.length);
    run.budget.settle(claimed.length, 0);
    return;
  }
  const { admitted, deferredCount } = admission;
  for (const claim of admitted) flights.start(queue, claim);
  // A put-off claim is not an attempt: its slot is free at once and it does not count toward maxTasks.
  slots.release(deferredCount);
  run.budget.settle(claimed.length - deferredCount, deferredCount);
}
