/**
 * The one contract suite. Every backend's entry file calls
 * `runBackendContract(...)`; every case file below runs against it. A feature
 * is done when its cases pass in every entry file.
 */
import { describe } from "vitest";
import { addGetCases } from "./cases/add-get.js";
import { type BackendUnderTest, type ContractHarness, createHarness } from "./harness.js";

const areas: ((h: ContractHarness) => void)[] = [addGetCases];

/** Runs every contract case against `target`. Pass `skip` (a reason) when its server is unavailable outside CI. */
export function runBackendContract(target: BackendUnderTest, options: { skip?: string } = {}): void {
  const suite = options.skip ? describe.skip : describe;
  suite(`${target.name} backend contract${options.skip ? ` (skipped: ${options.skip})` : ""}`, () => {
    const harness = createHarness(target);
    for (const area of areas) area(harness);
  });
}
