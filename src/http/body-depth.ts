/**
 * @module http/body-depth
 * How deep a request body's JSON nests, read from its text before it is
 * parsed: a body of a few megabytes of `[[[[…` costs `JSON.parse` seconds
 * and builds millions of arrays, only for the value to be refused later as
 * nested deeper than Sheppy stores. A scan of the text is one pass over its
 * characters and allocates nothing.
 */

const OPEN_ARRAY = 0x5b; // [
const OPEN_OBJECT = 0x7b; // {
const CLOSE_ARRAY = 0x5d; // ]
const CLOSE_OBJECT = 0x7d; // }
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/**
 * Whether the JSON text `text` opens more than `max` arrays and objects
 * inside one another at some point. Brackets inside strings do not count.
 * Text that is not JSON gives whatever its brackets say; `JSON.parse`
 * refuses it afterwards.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}
