/**
 * How Sheppy's loggers write an error: its own message once (pino's default
 * would append each cause's message again), its cause where the message does
 * not say it, stacks only when asked (the CLI asks at debug), and on a
 * human-readable line below debug the error stays on the line.
 */
import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { errorSerializer } from "../../src/observability/error-serializer.js";

describe("the error serializer", () => {
  it("writes the message once, and the cause only where the message does not say it", () => {
    const said = new Error("claim failed: Connection is closed.", {
      cause: new Error("Connection is closed."),
    });
    expect(errorSerializer(false)(said)).toEqual({
      type: "Error",
      message: "claim failed: Connection is closed.",
    });
    const unsaid = Object.assign(new TypeError("write failed", { cause: new RangeError("disk") }), {
      code: "EIO",
    });
    expect(errorSerializer(false)(unsaid)).toEqual({
      type: "TypeError",
      message: "write failed",
      code: "EIO",
      cause: { type: "RangeError", message: "disk" },
    });
  });

  it("adds the stacks when asked, the causes' too, and ends a cycle of causes", () => {
    const error = new Error("outer", { cause: new Error("inner") });
    const logged = errorSerializer(true)(error) as { stack: string; cause: { stack: string } };
    expect(logged.stack).toContain("Error: outer");
    expect(logged.cause.stack).toContain("Error: inner");
    const looped = new Error("loop");
    (looped as { cause?: unknown }).cause = looped;
    expect(JSON.stringify(errorSerializer(true)(looped))).toContain('"message":"loop"');
  });

  it("passes anything that is not an Error through as it is", () => {
    for (const value of ["text", 5, null, { message: "x" }])
      expect(errorSerializer(false)(value)).toBe(value);
  });

  it("as pino's err serializer, gives a one-line JSON record without the repeated cause", () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = pino({ serializers: { err: errorSerializer(false) } }, sink);
    logger.warn({ err: new Error("a: b", { cause: new Error("b") }) }, "failed");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).err).toEqual({ type: "Error", message: "a: b" });
  });
});
