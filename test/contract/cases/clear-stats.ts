import type { ContractHarness } from "../harness.js";

export function clearStatsCases(_h: ContractHarness): void {}
