/**
 * A pino destination for tests that read what a logger wrote: each JSON line
 * it receives is parsed and kept, in order.
 */
import { Writable } from "node:stream";

export function collectLines(): { lines: Record<string, unknown>[]; sink: Writable } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, sink };
}
