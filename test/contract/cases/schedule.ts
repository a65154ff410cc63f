import type { ContractHarness } from "../harness.js";

export function scheduleCases(_h: ContractHarness): void {}
