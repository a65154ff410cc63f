/**
 * @module worker/shutdown-signals
 * SIGINT/SIGTERM handling: the first signal asks for a graceful stop, any
 * further one forces it. Handlers are removed when the worker stops.
 */
const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/** Installs the handlers; returns a function that removes them. */
export function onShutdownSignals(graceful: () => void, force: () => void): () => void {
  let received = 0;
  const handler = () => {
    received++;
    if (received === 1) graceful();
    else force();
  };
  for (const signal of SIGNALS) process.on(signal, handler);
  return () => {
    for (const signal of SIGNALS) process.off(signal, handler);
  };
}
