import type { ContractHarness } from "../harness.js";

export function cancelDeleteCases(_h: ContractHarness): void {}
