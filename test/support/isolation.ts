/** Re-exported for tests outside the contract suite. */
export * from "../../src/contract/support/isolation.js";
