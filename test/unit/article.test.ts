/** `withArticle`: "a" or "an" as the word is said, for the type and class names error messages show. */
import { describe, expect, test } from "vitest";
import { withArticle } from "../../src/util/article.js";

describe("withArticle", () => {
  test.each([
    ["Error", "an Error"],
    ["Int8Array", "an Int8Array"],
    ["object", "an object"],
    ["undefined", "an undefined"],
    ["HTMLElement", "an HTMLElement"],
    ["SVGElement", "an SVGElement"],
    ["X509Certificate", "an X509Certificate"],
    ["Map", "a Map"],
    ["Uint8Array", "a Uint8Array"],
    ["URL", "a URL"],
    ["UUID", "a UUID"],
    ["bigint", "a bigint"],
    ["Widget", "a Widget"],
    ["", "a "],
  ])("%s → %s", (word, expected) => {
    expect(withArticle(word)).toBe(expected);
  });
});
