import type { ContractHarness } from "../harness.js";

export function workerCases(_h: ContractHarness): void {}
