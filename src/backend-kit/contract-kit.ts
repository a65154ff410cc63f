/**
 * @module backend-kit/contract-kit
 * `runBackendContract`, loaded when the kit is: the contract suite is written
 * with Vitest, which backend authors have while they test and production
 * installs usually do not. So the suite is imported here only if it can be
 * — everything else in `sheppy/backend` (the types, the URL registry, the
 * shared codec) works without Vitest, and calling `runBackendContract`
 * without it says what to install.
 */
import { SheppyError } from "../errors.js";

type Contract = typeof import("../contract/run-backend-contract.js");

const contract: Contract | Error = await import("../contract/run-backend-contract.js").catch(
  (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
);

/**
 * Runs every contract case against the backends `factory` makes; call it at
 * the top level of a Vitest test file.
 * @example
 * runBackendContract("mine", (options) => new MyBackend({ ...options, prefix: "test" }));
 */
export function runBackendContract(...args: Parameters<Contract["runBackendContract"]>): void {
  if (contract instanceof Error) {
    throw new SheppyError(
      `runBackendContract needs vitest installed (npm install -D vitest): ${contract.message}`,
      { cause: contract },
    );
  }
  contract.runBackendContract(...args);
}
