/** How a trace context is stored in a task's meta and read back (no SDK needed: the W3C fallback reads it). */
import { trace } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { extractContext, storedCarrier } from "../../src/observability/tracing.js";

const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

describe("stored trace carriers", () => {
  it("a carrier of only a traceparent is stored as its text; anything more as the object", () => {
    expect(storedCarrier({ traceparent: TRACEPARENT })).toBe(TRACEPARENT);
    const full = { traceparent: TRACEPARENT, tracestate: "vendor=1" };
    expect(storedCarrier(full)).toBe(full);
  });

  it("both forms read back as the remote parent", () => {
    for (const stored of [TRACEPARENT, { traceparent: TRACEPARENT, tracestate: "vendor=1" }]) {
      expect(trace.getSpanContext(extractContext(stored))).toMatchObject({
        traceId: "0af7651916cd43dd8448eb211c80319c",
        spanId: "b7ad6b7169203331",
        traceFlags: 1,
        isRemote: true,
      });
    }
  });

  it("anything else is no parent", () => {
    for (const stored of [undefined, 42, "garbage", `00-${"0".repeat(32)}-b7ad6b7169203331-01`]) {
      expect(trace.getSpanContext(extractContext(stored))).toBeUndefined();
    }
  });
});
