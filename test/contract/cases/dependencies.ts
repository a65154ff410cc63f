import type { ContractHarness } from "../harness.js";

export function dependenciesCases(_h: ContractHarness): void {}
