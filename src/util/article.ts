/**
 * @module util/article
 * "a" or "an" before a word an error message names — a class, a `typeof` —
 * chosen by how the word is said rather than spelled: an Error, an
 * HTMLElement, a Uint8Array, a URL. Class names are whatever users define,
 * so a fixed "a" reads wrong for a good share of them.
 */

/** Capitals whose spoken name starts with a vowel sound, for words read letter by letter (HTML, SVG). */
const VOWEL_SOUND_LETTERS = "AEFHILMNORSX";

/**
 * `word` after the article that fits it.
 * @example withArticle("Error") // "an Error"
 * @example withArticle("Uint8Array") // "a Uint8Array"
 */
export function withArticle(word: string): string {
  return `${startsWithVowelSound(word) ? "an" : "a"} ${word}`;
}

function startsWithVowelSound(word: string): boolean {
  const first = word.charAt(0);
  // Two capitals (or a capital and a digit) start an acronym, read letter by letter.
  if (/^[A-Z][A-Z0-9]/.test(word)) return VOWEL_SOUND_LETTERS.includes(first);
  // A capital U starts class names said "you" (Uint8Array, Url); a small one words said "uh" (undefined).
  if (first === "U") return false;
  return first !== "" && "aeiouAEIO".includes(first);
}
