import type { ContractHarness } from "../harness.js";

export function retryCases(_h: ContractHarness): void {}
