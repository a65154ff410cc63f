import type { ContractHarness } from "../harness.js";

export function chainingCases(_h: ContractHarness): void {}
