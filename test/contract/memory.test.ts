/** The contract suite on the memory backend (workers run the tasks, unless a case asks for inline processing). */
import { runBackendContract } from "sheppy/backend/contract";
import { MemoryBackend } from "sheppy/backends/memory";

runBackendContract("memory", (options) => new MemoryBackend(options));
