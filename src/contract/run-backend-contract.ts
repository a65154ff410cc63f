/**
 * The one contract suite, published as the backend kit (`sheppy/backend`):
 * `runBackendContract(name, factory)` runs every case against a backend, so
 * anyone can check a backend of their own with the same cases the built-in
 * ones pass. Call it from a Vitest test file. Cases a backend cannot run
 * (e.g. lease cases on a backend without leases) are skipped by its declared
 * capabilities, and each skip names its reason.
 * @example
 * // my-backend.test.ts
 * import { runBackendContract } from "sheppy/backend/contract";
 * runBackendContract("mine", (options) => new MyBackend({ ...options, prefix: "test" }));
 */
import { describe } from "vitest";
import { hasWorkerDirectory } from "../queue/live-worker.js";
import { addEntriesCases } from "./cases/add-entries.js";
import { addGetCases } from "./cases/add-get.js";
import { backendClaimsCases } from "./cases/backend-claims.js";
import { backendListingCases } from "./cases/backend-listing.js";
import { backendMiscCases } from "./cases/backend-misc.js";
import { backendRecordsCases } from "./cases/backend-records.js";
import { backendSettleCases } from "./cases/backend-settle.js";
import { backendStorageCases } from "./cases/backend-storage.js";
import { backendWorkflowCases } from "./cases/backend-workflows.js";
import { bulkDryRunCases } from "./cases/bulk-dry-run.js";
import { cancelAllCases } from "./cases/cancel-all.js";
import { cancelDeleteCases } from "./cases/cancel-delete.js";
import { cancelRunningCases } from "./cases/cancel-running.js";
import { chainingCases } from "./cases/chaining.js";
import { clearStatsCases } from "./cases/clear-stats.js";
import { concurrencyCases } from "./cases/concurrency.js";
import { cronCases } from "./cases/cron.js";
import { cronEveryTimezoneCases } from "./cases/cron-every-timezone.js";
import { declaredCronsCases } from "./cases/declared-crons.js";
import { dedupeCases } from "./cases/dedupe.js";
import { deleteAllCases } from "./cases/delete-all.js";
import { dependenciesCases } from "./cases/dependencies.js";
import { errorsCases } from "./cases/errors.js";
import { eventCases } from "./cases/events.js";
import { failureControlCases } from "./cases/failure-control.js";
import { fencingCases } from "./cases/fencing.js";
import { httpApiCases } from "./cases/http-api.js";
import { inlineCases } from "./cases/inline.js";
import { middlewareCases } from "./cases/middleware.js";
import { pauseCases } from "./cases/pause.js";
import { payloadLimitCases } from "./cases/payload-limit.js";
import { priorityCases } from "./cases/priority.js";
import { progressCases } from "./cases/progress.js";
import { rateLimitCases } from "./cases/rate-limit.js";
import { redriveCases } from "./cases/redrive.js";
import { rescheduleCases } from "./cases/reschedule.js";
import { retryCases } from "./cases/retry.js";
import { scheduleCases } from "./cases/schedule.js";
import { timeoutCases } from "./cases/timeout.js";
import { ttlCases } from "./cases/ttl.js";
import { waitForCases } from "./cases/wait-for.js";
import { workerCases } from "./cases/worker.js";
import { workerDirectoryCases } from "./cases/worker-directory.js";
import { workerTurnsCases } from "./cases/worker-turns.js";
import { workflowEventCases } from "./cases/workflow-events.js";
import { workflowRetryCases } from "./cases/workflow-retry.js";
import { workflowSleepCases } from "./cases/workflow-sleep.js";
import { workflowCases } from "./cases/workflows.js";
import { type BackendFactory, type ContractHarness, createHarness } from "./harness.js";

export type { BackendFactory, BackendTestOptions, ContractHarness } from "./harness.js";

/** The case areas, in the order they run; each adds one `describe` group. */
export const CONTRACT_AREAS: readonly ((h: ContractHarness) => void)[] = [
  backendStorageCases,
  backendWorkflowCases,
  backendSettleCases,
  backendClaimsCases,
  backendMiscCases,
  backendRecordsCases,
  backendListingCases,
  addGetCases,
  eventCases,
  waitForCases,
  cancelDeleteCases,
  bulkDryRunCases,
  cancelAllCases,
  deleteAllCases,
  cancelRunningCases,
  clearStatsCases,
  scheduleCases,
  rescheduleCases,
  cronCases,
  declaredCronsCases,
  cronEveryTimezoneCases,
  workerCases,
  workerDirectoryCases,
  retryCases,
  failureControlCases,
  redriveCases,
  timeoutCases,
  middlewareCases,
  payloadLimitCases,
  chainingCases,
  dependenciesCases,
  errorsCases,
  fencingCases,
  rateLimitCases,
  ttlCases,
  inlineCases,
  workflowCases,
  workflowEventCases,
  workflowRetryCases,
  workflowSleepCases,
  httpApiCases,
  pauseCases,
  concurrencyCases,
  priorityCases,
  workerTurnsCases,
  progressCases,
  dedupeCases,
  addEntriesCases,
];

export interface ContractOptions {
  /** Skip the whole suite, saying why (e.g. its server is unreachable outside CI). */
  skip?: string | undefined;
  /** Extra case areas to run with the same harness (a backend's own cases). */
  extra?: readonly ((h: ContractHarness) => void)[] | undefined;
}

/** Runs every contract case against the backends `factory` makes. */
export function runBackendContract(
  name: string,
  factory: BackendFactory,
  options: ContractOptions = {},
): void {
  const suite = options.skip ? describe.skip : describe;
  suite(`${name} backend contract${options.skip ? ` (skipped: ${options.skip})` : ""}`, () => {
    const plain = factory({ instantProcessing: false });
    const { capabilities } = plain;
    const inline = factory({ instantProcessing: true }).capabilities.instantProcessing;
    const reportsNextDue = typeof plain.nextDueAt === "function";
    const reportsClaimLeases = typeof plain.claimLeases === "function";
    const listsWorkers = hasWorkerDirectory(plain);
    const harness = createHarness({
      name,
      capabilities,
      inline,
      reportsNextDue,
      reportsClaimLeases,
      listsWorkers,
      create: factory,
    });
    for (const area of [...CONTRACT_AREAS, ...(options.extra ?? [])]) area(harness);
  });
}
