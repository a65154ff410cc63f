/**
 * @module backends/memory
 * `sheppy/backends/memory`: the in-process backend. Loading this module
 * registers the `memory://` URL scheme (`memory://?instantProcessing=false`
 * runs tasks only with a worker; `?maxPayloadBytes=1048576` sets the payload
 * limit).
 */
import { booleanParam, positiveIntegerParam, registerBackendScheme } from "../registry.js";
import { MemoryBackend } from "./memory-backend.js";

export { MemoryBackend, type MemoryBackendOptions } from "./memory-backend.js";

registerBackendScheme("memory:", (url) => {
  const maxPayloadBytes = positiveIntegerParam(url, "maxPayloadBytes");
  return new MemoryBackend({
    instantProcessing: booleanParam(url, "instantProcessing", true),
    ...(maxPayloadBytes === undefined ? {} : { maxPayloadBytes }),
  });
});
