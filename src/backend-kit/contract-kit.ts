/**
 * @module backend-kit/contract-kit
 * Where `runBackendContract` used to be. Loading the contract suite with
 * `sheppy/backend` defined some 230 test tasks in every process that used
 * the kit (a worker whose module only registers a URL scheme among them), so
 * the suite moved to `sheppy/backend/contract`; this says so to a caller of
 * the old import.
 */
import { SheppyError } from "../errors.js";

/** Moved: import it from `sheppy/backend/contract`. */
export function runBackendContract(..._args: unknown[]): never {
  throw new SheppyError(
    'runBackendContract is imported from "sheppy/backend/contract" (import { runBackendContract } from "sheppy/backend/contract"): loading the contract suite with "sheppy/backend" would define its test tasks in every process that uses the kit',
  );
}
