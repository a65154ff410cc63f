import type { ContractHarness } from "../harness.js";

export function waitForCases(_h: ContractHarness): void {}
