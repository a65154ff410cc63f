/**
 * @module backends/not-connected
 * The error of a call to a backend that is not connected: never connected
 * ("call connect() first"), or disconnected since — a queue closed while one
 * of its waits was still under way gets the second, which says so.
 */
import { BackendError } from "../errors.js";

/** The `BackendError` of a call to `backend` (its name in messages) while not connected; `closed`: disconnected since it connected. */
export function notConnectedError(backend: string, closed: boolean): BackendError {
  return new BackendError(
    closed
      ? `${backend} was disconnected (its queue or backend was closed): connect() again to use it`
      : `${backend} is not connected: call connect() first`,
  );
}
