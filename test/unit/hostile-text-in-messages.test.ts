/**
 * Text a caller gave or a record holds — a queue name, a cron expression, a
 * task's name — with line breaks, terminal escapes or megabytes in it never
 * breaks a one-line error message or a CLI table row.
 */
import { InvalidOptionError, Queue, task } from "sheppy";
import { describe, expect, test } from "vitest";
import { renderTable } from "../../src/cli/output.js";
import { quoteText } from "../../src/task/describe-value.js";

const HOSTILE = ["a\nb\nc", "red\u001b[31mtext", "nul\u0000here", "x".repeat(10_000), "emoji 🐑"];

/** Whether `text` holds a control character (a line break, NUL, an escape…). */
const hasControl = (text: string) => [...text].some((char) => char.charCodeAt(0) < 0x20);

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected a throw");
}

describe("error messages quote what they were given on one short line", () => {
  test("quoteText keeps short printable text as it is and escapes and cuts the rest", () => {
    expect(quoteText("bad name")).toBe("'bad name'");
    expect(quoteText("a\nb")).toBe('"a\\nb"');
    expect(quoteText("x".repeat(500)).length).toBeLessThan(120);
  });

  test.each(HOSTILE)("a queue name %#", (name) => {
    const message = messageOf(() => new Queue("memory://", { name }));
    expect(message).toMatch(/^Invalid queue name /);
    expect(hasControl(message)).toBe(false);
    expect(message.length).toBeLessThan(300);
  });

  test.each(HOSTILE)("a cron expression %#", async (expression) => {
    const queue = new Queue("memory://");
    const every = task({ name: `hostile-cron-${expression.length}` }, () => 1);
    const error = await queue.addCron(every(), expression).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(hasControl((error as Error).message)).toBe(false);
    expect((error as Error).message.length).toBeLessThan(600);
    await queue.close();
  });
});

describe("a CLI table shows stored text on one line per row", () => {
  test("line breaks and escapes show as escapes; a long cell is cut unless it is the last column", () => {
    const rows = HOSTILE.map((name) => ({ name, status: "pending" }));
    const table = renderTable(rows, [
      { heading: "NAME", value: (row) => row.name },
      { heading: "STATUS", value: (row) => row.status },
    ]);
    const lines = table.split("\n");
    expect(lines).toHaveLength(HOSTILE.length + 1);
    expect(lines.some(hasControl)).toBe(false);
    expect(lines[1]).toMatch(/^a\\nb\\nc +pending$/);
    expect(lines[2]).toContain("red\\x1b[31mtext");
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThan(220);
    const last = renderTable([{ v: "y".repeat(5000) }], [{ heading: "V", value: (row) => row.v }]);
    expect(last).toContain("y".repeat(5000));
  });
});
