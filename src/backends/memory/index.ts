/**
 * @module backends/memory
 * `sheppy/backends/memory`: the in-process backend. Loading this module
 * registers the `memory://` URL scheme (`memory://?instantProcessing=false`
 * runs tasks only with a worker).
 */
import { booleanParam, registerBackendScheme } from "../registry.js";
import { MemoryBackend } from "./memory-backend.js";

export { MemoryBackend, type MemoryBackendOptions } from "./memory-backend.js";

registerBackendScheme(
  "memory:",
  (url) => new MemoryBackend({ instantProcessing: booleanParam(url, "instantProcessing", true) }),
);
