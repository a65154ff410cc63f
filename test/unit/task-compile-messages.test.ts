/**
 * What the compiler says about a task definition that does not type-check.
 * `task()` has overloads for definitions with and without schemas; the
 * compiler reports an error against the overloads a call could have meant,
 * so the message must name the real mistake (a result that does not match
 * the result schema, a parameter the args schema contradicts) rather than
 * only that the schema "is not assignable to type 'undefined'" — what a
 * definition with a schema was told while the schema-less overload came last.
 */
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, test } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const SNIPPET = `${root}test/unit/__compile-messages__.ts`;

/** Compiles `code` as a module of this repository; its diagnostics' flattened text, by line (from 0). */
function messagesOf(code: string): Map<number, string> {
  const config = ts.getParsedCommandLineOfConfigFile(
    `${root}tsconfig.json`,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      },
    },
  );
  if (!config) throw new Error("tsconfig.json could not be read");
  const host = ts.createCompilerHost(config.options);
  const readFile = host.readFile.bind(host);
  host.readFile = (file) => (file === SNIPPET ? code : readFile(file));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (file) => file === SNIPPET || fileExists(file);
  const program = ts.createProgram([SNIPPET], config.options, host);
  const found = new Map<number, string>();
  for (const d of ts.getPreEmitDiagnostics(program, program.getSourceFile(SNIPPET))) {
    const line = d.file?.getLineAndCharacterOfPosition(d.start ?? 0).line ?? -1;
    found.set(
      line,
      `${found.get(line) ?? ""}${ts.flattenDiagnosticMessageText(d.messageText, "\n")}\n`,
    );
  }
  return found;
}

describe("compile errors of task definitions", () => {
  test("each names the mistake, with schemas and without", { timeout: 60_000 }, () => {
    const found = messagesOf(`import { task } from "sheppy";
import { z } from "zod";
export const resultSchema = task({ name: "m.result", args: z.tuple([z.string()]), result: z.object({ id: z.string() }) }, (s) => ({ id: s.length }));
export const resultOnly = task({ name: "m.result-only", result: z.number() }, () => "x");
export const argsSchema = task({ name: "m.args", args: z.tuple([z.string()]) }, (n: number) => n);
export const optionBesideSchema = task({ name: "m.option", args: z.tuple([z.string()]), retry: "3" }, (s) => s);
export const notATuple = task({ name: "m.not-tuple", args: z.object({ x: z.string() }) }, (o) => o);
export const plainOption = task({ name: "m.plain", retry: "3" }, (s: string) => s);
export const plainDate = task({ name: "m.date" }, (d: Date) => d.getTime());
export const retyped = task({ name: "m.retyped", args: z.tuple([z.string().transform((s) => s.length)]) }, (n) => n);
export const fine = task({ name: "m.fine", args: z.tuple([z.string()]), result: z.number() }, (s) => s.length);
`);
    const at = (line: number) => found.get(line) ?? "";
    expect(at(2)).toContain("Type 'number' is not assignable to type 'string'");
    expect(at(3)).toContain("Type 'string' is not assignable to type 'number | Promise<number>'");
    expect(at(4)).toContain("Types of parameters 'n' and 'args_0' are incompatible");
    expect(at(5)).toContain("Type 'string' is not assignable to type 'number'");
    expect(at(6)).toContain("is missing the following properties from type 'readonly unknown[]'");
    expect(at(7)).toContain("Type 'string' is not assignable to type 'number'");
    expect(at(8)).toContain("the task's parameters must be JSON values");
    expect(at(9)).toContain("the schema must accept its own output as JSON reads it back");
    expect(found.has(10)).toBe(false);
    expect(found.has(0) || found.has(1)).toBe(false);
  });
});
