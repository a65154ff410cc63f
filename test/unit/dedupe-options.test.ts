/**
 * Dedupe options and caller-chosen ids are checked before anything is
 * stored: every id of the safe charset and length passes unchanged, every
 * other value is a one-line InvalidOptionError naming the call and the
 * option; the same for keys, modes and windows. The stored record's
 * `dedupeKey` survives the codec, and anything but a non-empty string there
 * is a SerializationError naming the field. The shared rule is checked
 * against its statement for every slot, task state, mode and time.
 */
import fc from "fast-check";
import { InvalidOptionError, SerializationError, type TaskData, task } from "sheppy";
import { decideDedupe, decodeTaskData, encodeTaskData } from "sheppy/backend";
import { describe, expect, test } from "vitest";
import {
  checkDedupe,
  checkDedupeKey,
  checkTaskId,
  MAX_DEDUPE_KEY_LENGTH,
  MAX_TASK_ID_LENGTH,
  RESERVED_TASK_IDS,
} from "../../src/queue/dedupe-options.js";

const WHERE = "queue.add()";
const SAFE_ID = /^[A-Za-z0-9_.:-]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what keys may not hold
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The error `run` throws, checked to be a one-line InvalidOptionError starting with `where`. */
function refusal(run: () => unknown, where = WHERE): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    const { message } = error as Error;
    expect(message.startsWith(`${where}: `)).toBe(true);
    expect(message).not.toContain("\n");
    return message;
  }
  throw new Error("expected a refusal");
}

describe("caller-chosen ids", () => {
  test("every id of 1–128 safe characters (not '.' or '..') is accepted unchanged", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_.:-]{1,128}$/), (id) => {
        fc.pre(id !== "." && id !== ".." && !RESERVED_TASK_IDS.has(id));
        expect(checkTaskId(id, WHERE)).toBe(id);
      }),
    );
  });

  test("the words of the HTTP API's task paths are refused: such a task could not be addressed there", () => {
    for (const word of RESERVED_TASK_IDS) {
      expect(refusal(() => checkTaskId(word, WHERE))).toMatch(
        new RegExp(`^queue\\.add\\(\\): id must be .*'${word}'.*; got "${word}"$`),
      );
    }
    // Only the bare words: ids that merely contain them are ordinary ids.
    expect(checkTaskId("pending-1", WHERE)).toBe("pending-1");
    expect(checkTaskId("Clear", WHERE)).toBe("Clear");
  });

  test("any other string, and any non-string, is refused naming the option", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200, unit: "grapheme" }), (id) => {
        fc.pre(
          id.length === 0 ||
            id.length > MAX_TASK_ID_LENGTH ||
            !SAFE_ID.test(id) ||
            id === "." ||
            id === ".." ||
            RESERVED_TASK_IDS.has(id),
        );
        expect(refusal(() => checkTaskId(id, WHERE))).toMatch(/^queue\.add\(\): id must be/);
      }),
    );
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.object()), (id) => {
        refusal(() => checkTaskId(id, WHERE));
      }),
    );
    // Found by the property above: an object whose toString is not a function made the
    // message itself throw a TypeError instead of the refusal.
    expect(refusal(() => checkTaskId({ toString: {} }, WHERE))).toMatch(
      /^queue\.add\(\): id must be .*; got /,
    );
  });
});

describe("dedupe keys, modes and windows", () => {
  test("every key of 1–256 characters without control characters is accepted unchanged", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 256, unit: "binary" }), (key) => {
        fc.pre(key.length <= MAX_DEDUPE_KEY_LENGTH && !CONTROL.test(key));
        expect(checkDedupeKey(key, WHERE)).toBe(key);
      }),
    );
  });

  test("a key that is empty, too long or holds a control character is refused", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 300, unit: "binary" }),
        fc.integer({ min: 0, max: 31 }),
        (text, code) => {
          const key =
            text.length > MAX_DEDUPE_KEY_LENGTH ? text : `${text}${String.fromCharCode(code)}`;
          expect(refusal(() => checkDedupeKey(key, WHERE))).toMatch(/dedupe\.key must be/);
        },
      ),
    );
    refusal(() => checkDedupeKey("", WHERE));
  });

  test("a window is any number of seconds > 0 up to ten years, kept as whole ms ≥ 1; anything else is refused", () => {
    fc.assert(
      fc.property(fc.double({ min: Number.MIN_VALUE, max: 315_360_000, noNaN: true }), (window) => {
        const { windowMs, mode } = checkDedupe({ key: "k", window }, WHERE);
        expect(mode).toBe("ignore");
        expect(Number.isInteger(windowMs)).toBe(true);
        expect(windowMs).toBeGreaterThanOrEqual(1);
        expect(Math.abs(windowMs! - window * 1000)).toBeLessThanOrEqual(1);
      }),
    );
    for (const window of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, "10", 315_360_001, 1e17]) {
      refusal(() => checkDedupe({ key: "k", window: window as number }, WHERE));
    }
    expect(refusal(() => checkDedupe({ key: "k", mode: "replace", window: 5 }, WHERE))).toMatch(
      /window applies to mode 'ignore' only/,
    );
    expect(checkDedupe({ key: "k", mode: "replace" }, WHERE)).toEqual({
      key: "k",
      mode: "replace",
      windowMs: null,
    });
    for (const dedupe of [null, "k", ["k"], 1]) refusal(() => checkDedupe(dedupe, WHERE));
  });
});

describe("the stored dedupeKey", () => {
  const item = task({ name: "dedupe-options.item" }, (n: number) => n);

  test("any non-empty key survives encode → decode, and the task shows it", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 256 }), (key) => {
        const record: TaskData = { ...item(1).toJSON(), dedupeKey: key };
        expect(decodeTaskData(encodeTaskData(record))).toEqual(record);
      }),
    );
    expect(item(1).dedupeKey).toBeNull();
  });

  test("a dedupeKey that is not a non-empty string is a SerializationError naming the field", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.constant(""),
          fc.integer(),
          fc.boolean(),
          fc.constant(null),
          fc.array(fc.string()),
        ),
        (key) => {
          const raw = JSON.stringify({ ...item(1).toJSON(), dedupeKey: key });
          expect(() => decodeTaskData(raw)).toThrow(SerializationError);
          expect(() => decodeTaskData(raw)).toThrow(
            /field 'dedupeKey' must be a non-empty string or absent/,
          );
        },
      ),
    );
  });
});

describe("the shared rule", () => {
  const states = ["missing", "finished", "waiting", "started"] as const;

  test("an open window ignores, a passed one or no slot adds; without a window the task's state and the mode decide", () => {
    fc.assert(
      fc.property(
        fc.option(fc.record({ taskId: fc.constant("held"), until: fc.option(fc.integer()) })),
        fc.constantFrom(...states),
        fc.constantFrom("ignore" as const, "replace" as const),
        fc.integer(),
        (slot, state, mode, now) => {
          const expected =
            slot === null
              ? { kind: "add" }
              : slot.until !== null
                ? slot.until > now
                  ? { kind: "ignore", id: "held" }
                  : { kind: "add" }
                : state === "missing" || state === "finished"
                  ? { kind: "add" }
                  : mode === "ignore"
                    ? { kind: "ignore", id: "held" }
                    : state === "waiting"
                      ? { kind: "replace", id: "held" }
                      : { kind: "add" };
          expect(decideDedupe(slot, () => state, mode, now)).toEqual(expected);
        },
      ),
    );
  });
});
