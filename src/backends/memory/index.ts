/**
 * @module backends/memory
 * `sheppy/backends/memory`: the in-process backend. Loading this module
 * registers the `memory://` URL scheme (`memory://?instantProcessing=false`
 * runs tasks only with a worker; `?maxPayloadBytes=1048576` sets the payload
 * limit).
 */
import { BackendUrlError } from "../../errors.js";
import {
  booleanParam,
  clockOption,
  positiveIntegerParam,
  refuseRepeatedParams,
  registerBackendScheme,
} from "../registry.js";
import { MemoryBackend } from "./memory-backend.js";

export { MemoryBackend, type MemoryBackendOptions } from "./memory-backend.js";

const PARAMETERS = ["instantProcessing", "maxPayloadBytes"];

registerBackendScheme("memory:", (url, _raw, settings) => {
  // A misspelt parameter would leave its default silently in place.
  for (const name of url.searchParams.keys()) {
    if (!PARAMETERS.includes(name)) {
      throw new BackendUrlError(
        `Invalid backend URL '${url.href}': unknown parameter '${name}' (known: ${PARAMETERS.join(", ")})`,
      );
    }
  }
  refuseRepeatedParams(url.searchParams.keys(), "backend URL", url.href);
  const maxPayloadBytes = positiveIntegerParam(url, "maxPayloadBytes");
  return new MemoryBackend({
    instantProcessing: booleanParam(url, "instantProcessing", true),
    ...(maxPayloadBytes === undefined ? {} : { maxPayloadBytes }),
    ...clockOption(settings),
  });
});
