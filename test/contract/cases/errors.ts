import type { ContractHarness } from "../harness.js";

export function errorsCases(_h: ContractHarness): void {}
