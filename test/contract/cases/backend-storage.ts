import type { ContractHarness } from "../harness.js";

export function backendStorageCases(_h: ContractHarness): void {}
