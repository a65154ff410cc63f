/**
 * Every error class the package exports carries its name written out, so a
 * minified bundle stores `TaskTimeoutError`, not the minifier's `xt`: each
 * class is listed under its own name, and its `name` reads that.
 */
import { describe, expect, it } from "vitest";
import * as errors from "../../src/errors.js";

describe("error class names", () => {
  const classes = Object.entries(errors).filter(
    ([, value]) => typeof value === "function" && value.prototype instanceof Error,
  );

  it("lists every exported error class under its own name", () => {
    expect(classes.length).toBeGreaterThan(30);
    for (const [name, cls] of classes) {
      expect(errors.ERROR_CLASSES[name], name).toBe(cls);
      expect((cls as { name: string }).name).toBe(name);
    }
    expect(Object.keys(errors.ERROR_CLASSES).sort()).toEqual(classes.map(([name]) => name).sort());
  });
});
