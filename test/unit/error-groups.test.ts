/**
 * Counting tasks by name and error (`sheppy task list --group-by error`),
 * over stored records of every shape: every task is counted once, in the
 * group of its name and error; groups come most first; an error cell is one
 * line, however the message reads.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { groupByError } from "../../src/cli/error-groups.js";
import { record } from "../support/record-arbitrary.js";

/** Messages and types as thrown code may make them: lines, carriage returns, tabs, nothing. */
const text = fc.string({ unit: "binary", maxLength: 30 });
const error = fc.option(
  fc.record({ type: text, message: text, stack: fc.constant(null), cause: fc.constant(null) }),
);

const tasks = fc
  .array(fc.tuple(record, fc.constantFrom("emails.send", "reports.build"), error), {
    maxLength: 40,
  })
  .map((rows) => rows.map(([data, name, err], i) => ({ ...data, id: `t${i}`, name, error: err })));

describe("groupByError", () => {
  it("counts each task once, in one group per name and error, most first, with the newest as example", () => {
    fc.assert(
      fc.property(tasks, (newestFirst) => {
        const groups = groupByError(newestFirst);
        expect(groups.reduce((sum, g) => sum + g.count, 0)).toBe(newestFirst.length);
        for (let i = 1; i < groups.length; i++) {
          expect(groups[i - 1]!.count).toBeGreaterThanOrEqual(groups[i]!.count);
        }
        const keys = groups.map((g) => JSON.stringify([g.name, g.error]));
        expect(new Set(keys).size).toBe(groups.length);
        for (const group of groups) {
          // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
          expect(group.error).not.toMatch(/[\u0000-\u001f\u007f]/);
          const example = newestFirst.findIndex((t) => t.id === group.example);
          expect(newestFirst[example]!.name).toBe(group.name);
          // The example is the first (newest) task of its group: none before it falls in it.
          const before = groupByError(newestFirst.slice(0, example));
          expect(before.some((g) => g.name === group.name && g.error === group.error)).toBe(false);
        }
      }),
    );
  });
});
