/**
 * The one contract suite. Every backend's entry file calls
 * `runBackendContract(...)`; every case file below runs against it. A feature
 * is done when its cases pass in every entry file.
 */
import { describe } from "vitest";
import { addGetCases } from "./cases/add-get.js";
import { backendStorageCases } from "./cases/backend-storage.js";
import { cancelDeleteCases } from "./cases/cancel-delete.js";
import { chainingCases } from "./cases/chaining.js";
import { clearStatsCases } from "./cases/clear-stats.js";
import { cronCases } from "./cases/cron.js";
import { declaredCronsCases } from "./cases/declared-crons.js";
import { dependenciesCases } from "./cases/dependencies.js";
import { errorsCases } from "./cases/errors.js";
import { fencingCases } from "./cases/fencing.js";
import { middlewareCases } from "./cases/middleware.js";
import { rateLimitCases } from "./cases/rate-limit.js";
import { retryCases } from "./cases/retry.js";
import { scheduleCases } from "./cases/schedule.js";
import { timeoutCases } from "./cases/timeout.js";
import { ttlCases } from "./cases/ttl.js";
import { waitForCases } from "./cases/wait-for.js";
import { workerCases } from "./cases/worker.js";
import { type BackendUnderTest, type ContractHarness, createHarness } from "./harness.js";

const areas: ((h: ContractHarness) => void)[] = [
  addGetCases,
  waitForCases,
  cancelDeleteCases,
  clearStatsCases,
  scheduleCases,
  cronCases,
  declaredCronsCases,
  backendStorageCases,
  workerCases,
  retryCases,
  timeoutCases,
  middlewareCases,
  chainingCases,
  dependenciesCases,
  errorsCases,
  fencingCases,
  rateLimitCases,
  ttlCases,
];

/** Runs every contract case against `target`. Pass `skip` (a reason) when its server is unavailable outside CI. */
export function runBackendContract(
  target: BackendUnderTest,
  options: { skip?: string } = {},
): void {
  const suite = options.skip ? describe.skip : describe;
  suite(`${target.name} backend contract${options.skip ? ` (skipped: ${options.skip})` : ""}`, () => {
    const harness = createHarness(target);
    for (const area of areas) area(harness);
  });
}
