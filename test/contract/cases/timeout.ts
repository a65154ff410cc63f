import type { ContractHarness } from "../harness.js";

export function timeoutCases(_h: ContractHarness): void {}
