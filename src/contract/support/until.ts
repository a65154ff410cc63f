/**
 * Small async helpers for contract cases: wait for a condition instead of
 * sleeping a guessed time, and gates that hold a running task until the test
 * lets it go.
 */
import { setTimeout as sleepFor } from "node:timers/promises";

/** Resolves after `ms` milliseconds (only for cases that test a time behaviour). */
export const sleep = (ms: number): Promise<void> => sleepFor(ms).then(() => undefined);

/** Polls `probe` until it returns a truthy value (returned), or fails after `timeoutMs`. */
export async function until<T>(
  probe: () => T | Promise<T>,
  options: { timeoutMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) {
      throw new Error(`until(): ${options.what ?? "condition"} not reached in time`);
    }
    await sleepFor(5);
  }
}

/** A promise the test resolves by hand. */
export interface Gate {
  readonly opened: Promise<void>;
  open(): void;
}

export function gate(): Gate {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** Per-test state kept by module-level task functions, keyed by a token the test passes as an argument. */
export class PerTest<T> {
  readonly #entries = new Map<string, T>();
  constructor(private readonly create: () => T) {}

  get(token: string): T {
    let entry = this.#entries.get(token);
    if (entry === undefined) {
      entry = this.create();
      this.#entries.set(token, entry);
    }
    return entry;
  }
}
