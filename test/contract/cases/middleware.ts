import type { ContractHarness } from "../harness.js";

export function middlewareCases(_h: ContractHarness): void {}
