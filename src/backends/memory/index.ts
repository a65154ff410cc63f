/**
 * @module backends/memory
 * `sheppy/backends/memory`: the in-process backend.
 */
export { MemoryBackend, type MemoryBackendOptions } from "./memory-backend.js";
