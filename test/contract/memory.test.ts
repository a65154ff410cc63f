/** The contract suite on the memory backend (instant processing off: workers run the tasks). */
import { MemoryBackend } from "sheppy";
import { runBackendContract } from "./run-backend-contract.js";

runBackendContract({
  name: "memory",
  capabilities: new MemoryBackend({ instantProcessing: false }).capabilities,
  create: (options) => new MemoryBackend({ instantProcessing: false, ...options }),
});
