/** The shared maxTasks budget of a work() call: fair hand-back, and an end only when nothing can come back. */
import { describe, expect, it } from "vitest";
import { ClaimBudget } from "../../src/worker/claim-budget.js";

const never = new AbortController().signal;

describe("ClaimBudget", () => {
  it("claims given back go to a loop already waiting, not to the loop that gave them back", async () => {
    const budget = new ClaimBudget(3);
    expect(await budget.take(10, never)).toBe(3);
    const waiting = budget.take(10, never);
    budget.settle(1, 2);
    // The giver asks again at once: it queues behind the waiting loop.
    const giverAgain = budget.take(10, never);
    expect(await waiting).toBe(2);
    budget.settle(2, 0);
    expect(await giverAgain).toBe(0);
  });

  it("a waiting loop ends with 0 once every claim is spent, and at once when none is free or held", async () => {
    const budget = new ClaimBudget(2);
    expect(await budget.take(1, never)).toBe(1);
    expect(await budget.take(1, never)).toBe(1);
    const waiting = budget.take(1, never);
    budget.settle(1, 0);
    budget.settle(1, 0);
    expect(await waiting).toBe(0);
    expect(await budget.take(1, never)).toBe(0);
  });

  it("a refund (a claim that was a workflow's resume) makes a claim free again", async () => {
    const budget = new ClaimBudget(1);
    expect(await budget.take(1, never)).toBe(1);
    budget.settle(1, 0);
    budget.refund(1);
    expect(await budget.take(5, never)).toBe(1);
  });

  it("its spent signal aborts once nothing is free or held (idle waits end), and a refund gives a fresh one", async () => {
    const budget = new ClaimBudget(2);
    expect(budget.finite).toBe(true);
    expect(await budget.take(2, never)).toBe(2);
    budget.settle(1, 0);
    expect(budget.spent.aborted).toBe(false);
    budget.settle(1, 0);
    expect(budget.spent.aborted).toBe(true);
    budget.refund(1);
    expect(budget.spent.aborted).toBe(false);
    expect(await budget.take(1, never)).toBe(1);
    budget.settle(1, 0);
    expect(budget.spent.aborted).toBe(true);
    expect(new ClaimBudget(Number.POSITIVE_INFINITY).finite).toBe(false);
  });

  it("an aborted wait resolves 0 and leaves the queue of waiting loops", async () => {
    const budget = new ClaimBudget(1);
    expect(await budget.take(1, never)).toBe(1);
    const stop = new AbortController();
    const waiting = budget.take(1, stop.signal);
    stop.abort();
    expect(await waiting).toBe(0);
    const next = budget.take(1, never);
    budget.settle(0, 1);
    expect(await next).toBe(1);
  });

  it("without maxTasks every take is granted in full", async () => {
    const budget = new ClaimBudget(Number.POSITIVE_INFINITY);
    expect(await budget.take(50, never)).toBe(50);
    expect(await budget.take(50, never)).toBe(50);
  });
});
