/**
 * @module backend-kit/contract
 * `sheppy/backend/contract`: the contract suite, for a backend's own Vitest
 * files. An entry of its own, apart from `sheppy/backend`: the suite defines
 * its test tasks in the process-wide registry as it loads (and needs Vitest),
 * so a production module that only registers a URL scheme or uses the shared
 * codec must never load it.
 * @example
 * import { runBackendContract } from "sheppy/backend/contract";
 * runBackendContract("mine", (options) => new MyBackend({ ...options, prefix: "test" }));
 */
export { runBackendContract } from "../contract/run-backend-contract.js";
