/**
 * @module backends/memory
 * `sheppy/backends/memory`: the in-process backend. Loading this module
 * registers the `memory://` URL scheme (`memory://?instantProcessing=false`
 * runs tasks only with a worker; `?maxPayloadBytes=1048576` sets the payload
 * limit; `?eventCap=` bounds the event log, 0 turning it off, as on every
 * backend).
 */
import { BackendUrlError } from "../../errors.js";
import {
  booleanParam,
  clockOption,
  eventCapParam,
  positiveIntegerParam,
  RETENTION_PARAMETERS,
  refuseMisspeltParams,
  refuseRepeatedParams,
  registerBackendScheme,
  retentionParams,
} from "../registry.js";
import { MemoryBackend } from "./memory-backend.js";

export { MemoryBackend, type MemoryBackendOptions } from "./memory-backend.js";

const PARAMETERS = ["instantProcessing", "maxPayloadBytes", "eventCap", ...RETENTION_PARAMETERS];

registerBackendScheme("memory:", (url, _raw, settings) => {
  // A misspelt parameter would leave its default silently in place.
  refuseMisspeltParams(url.searchParams.keys(), PARAMETERS, "backend URL", url.href);
  for (const name of url.searchParams.keys()) {
    if (!PARAMETERS.includes(name)) {
      throw new BackendUrlError(
        `Invalid backend URL '${url.href}': unknown parameter '${name}' (known: ${PARAMETERS.join(", ")})`,
      );
    }
  }
  refuseRepeatedParams(url.searchParams.keys(), "backend URL", url.href);
  const maxPayloadBytes = positiveIntegerParam(url, "maxPayloadBytes");
  const eventCap = eventCapParam(url);
  return new MemoryBackend({
    ...retentionParams(url),
    instantProcessing: booleanParam(url, "instantProcessing", true),
    ...(maxPayloadBytes === undefined ? {} : { maxPayloadBytes }),
    ...(eventCap === undefined ? {} : { eventCap }),
    ...clockOption(settings),
  });
});
