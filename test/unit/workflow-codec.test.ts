/**
 * Stored workflow records read back: a record this version wrote comes back
 * as written, and anything else — other JSON, damaged fields, text that is
 * not JSON — is a SerializationError naming the field, never another error.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SerializationError } from "../../src/errors.js";
import { decodeWorkflowData, encodeWorkflowData } from "../../src/task/workflow-codec.js";
import type { WorkflowData } from "../../src/task/workflow-record.js";

const record: WorkflowData = {
  v: 1,
  id: "wf-1",
  name: "codec.flow",
  args: [1, "a"],
  status: "running",
  steps: [{ taskId: "t-0", index: 0, yield: 0, name: "codec.step", argsHash: "h" }],
  pending: ["t-0"],
  effects: [{ value: 3 }],
  result: null,
  error: null,
  config: { ttl: 60 },
  createdAt: "2026-12-07T00:00:00.000Z",
  finishedAt: null,
};

describe("workflow records read back", () => {
  it("round-trips a record, with or without a retry count", () => {
    expect(decodeWorkflowData(encodeWorkflowData(record))).toEqual(record);
    const retried = { ...record, retryCount: 2 };
    expect(decodeWorkflowData(encodeWorkflowData(retried))).toEqual(retried);
  });

  it("refuses a retry count that is not a whole number above 0, naming the field", () => {
    for (const retryCount of [0, -1, 1.5, "2", null]) {
      expect(() => decodeWorkflowData(JSON.stringify({ ...record, retryCount }), "wf x")).toThrow(
        new SerializationError(
          "malformed wf x: field 'retryCount' must be a whole number above 0, or absent",
        ),
      );
    }
  });

  it("round-trips a seed (a workflow added under an id of the caller's); refuses one that is not non-empty text", () => {
    const seeded = { ...record, seed: "0b1f5d3e-8c47-4a8e-9d12-7e64c2a9f0b3" };
    expect(decodeWorkflowData(encodeWorkflowData(seeded))).toEqual(seeded);
    for (const seed of ["", 7, null, ["x"]]) {
      expect(() => decodeWorkflowData(JSON.stringify({ ...record, seed }), "wf x")).toThrow(
        new SerializationError(
          "malformed wf x: field 'seed' must be a non-empty string, or absent",
        ),
      );
    }
  });

  it("any JSON, or any change of one field of a record, is read or refused with a SerializationError", () => {
    const anyField = fc.constantFrom(...Object.keys(record), "retryCount", "seed");
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.tuple(anyField, fc.jsonValue())), (input) => {
        const json =
          Array.isArray(input) && input.length === 2 && typeof input[0] === "string"
            ? JSON.stringify({ ...record, [input[0]]: input[1] })
            : JSON.stringify(input);
        try {
          decodeWorkflowData(json);
        } catch (error) {
          expect(error).toBeInstanceOf(SerializationError);
        }
      }),
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          decodeWorkflowData(text);
        } catch (error) {
          expect(error).toBeInstanceOf(SerializationError);
        }
      }),
    );
  });
});
