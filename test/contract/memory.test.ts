/** The contract suite on the memory backend (instant processing off: workers run the tasks). */
import { runBackendContract } from "sheppy/backend";
import { MemoryBackend } from "sheppy/backends/memory";

runBackendContract(
  "memory",
  (options) => new MemoryBackend({ instantProcessing: false, ...options }),
);
