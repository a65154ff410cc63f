/** Payload sizes: the bound used to skip encoding never undercounts, and the limit option is checked. */
import fc from "fast-check";
import { MemoryBackend, PayloadTooLargeError, Queue, task } from "sheppy";
import { describe, expect, it } from "vitest";
import { backendFromUrl } from "../../src/backends/registry.js";
import type { JsonValue } from "../../src/json.js";
import { jsonBytesOver } from "../../src/util/json-size.js";

const exactBytes = (value: JsonValue) => Buffer.byteLength(JSON.stringify(value));
const anyJson = fc.jsonValue({ stringUnit: "binary" }) as fc.Arbitrary<JsonValue>;

describe("jsonBytesOver", () => {
  it("is the exact UTF-8 JSON size one byte under it, and null at it or above (any JSON, any Unicode)", () => {
    fc.assert(
      fc.property(anyJson, (value) => {
        const bytes = exactBytes(value);
        expect(jsonBytesOver(value, bytes)).toBeNull();
        expect(jsonBytesOver(value, bytes + 1000)).toBeNull();
        if (bytes > 1) expect(jsonBytesOver(value, bytes - 1)).toBe(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it("counts the longest numbers JSON writes: 17 digits just over 1e-6 without an exponent, and with one", () => {
    for (const value of [
      -0.0000011932049661917431, -1.2345678901234567e-308, -123456789012345680000,
    ]) {
      const bytes = exactBytes(value);
      expect(jsonBytesOver(value, bytes - 1)).toBe(bytes);
      expect(jsonBytesOver(value, bytes)).toBeNull();
    }
  });

  it("counts escapes: control characters, quotes and backslashes take their escaped size", () => {
    const value = ['\u0000\u001f"\\', { "k\n": "\u2028é😀" }];
    const bytes = exactBytes(value);
    expect(jsonBytesOver(value, bytes - 1)).toBe(bytes);
    expect(jsonBytesOver(value, bytes)).toBeNull();
  });
});

const echo = task({ name: "payload-size.echo" }, (text: string) => text);

describe("maxPayloadBytes on backends", () => {
  it("a MemoryBackend's limit is what its queues apply unless they set their own", async () => {
    const backend = new MemoryBackend({ instantProcessing: false, maxPayloadBytes: 50 });
    const queue = new Queue(backend, { name: "payload-size" });
    expect(queue.maxPayloadBytes).toBe(50);
    await expect(queue.add(echo("x".repeat(47)))).rejects.toThrow(PayloadTooLargeError);
    const roomy = new Queue(backend, { name: "payload-size", maxPayloadBytes: 1000 });
    expect(await roomy.add(echo("x".repeat(47)))).toBe(true);
    await queue.close();
  });

  it("memory:// and redis:// take ?maxPayloadBytes=; a value that is not a whole number ≥ 1 is a one-line error", () => {
    expect(backendFromUrl("memory://?maxPayloadBytes=1024").maxPayloadBytes).toBe(1024);
    expect(backendFromUrl("memory://").maxPayloadBytes).toBe(16 * 1024 * 1024);
    for (const bad of ["0", "-5", "1.5", "1e3", "lots", ""]) {
      expect(() => backendFromUrl(`memory://?maxPayloadBytes=${bad}`)).toThrow(
        `backend URL parameter maxPayloadBytes must be a whole number ≥ 1 (got '${bad}')`,
      );
    }
    const redis = backendFromUrl("redis://127.0.0.1:6379/2?maxPayloadBytes=2048&prefix=pl");
    expect(redis.maxPayloadBytes).toBe(2048);
    expect((redis as unknown as { url: string }).url).toBe("redis://127.0.0.1:6379/2");
    expect(() => backendFromUrl("redis://127.0.0.1:6379?maxPayloadBytes=big")).toThrow(
      "backend URL parameter maxPayloadBytes must be a whole number ≥ 1 (got 'big')",
    );
    expect(() => new MemoryBackend({ maxPayloadBytes: 0 })).toThrow(
      /^MemoryBackend: maxPayloadBytes must be a whole number of bytes ≥ 1 \(got 0\)$/,
    );
  });
});
