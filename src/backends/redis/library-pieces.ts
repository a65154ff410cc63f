/**
 * @module backends/redis/library-pieces
 * The Lua helper libraries (`./scripts/lib`) cut into their top-level
 * pieces, so a script can include only the functions it calls. Redis runs a
 * script's whole body on every call, and each `local function` there makes
 * a new closure: a script that includes five libraries for three of their
 * functions would pay for twenty. Measured, that is microseconds per call —
 * a visible share of a single add.
 *
 * A library is written as top-level `local function <name>(…)` blocks (each
 * ending with an `end` at the start of a line, its comment lines just
 * above it going with it) and other top-level statements (shared state),
 * which are always kept. A function is kept when its name appears as a word
 * outside whole-line comments in the script, in a kept statement, or in
 * another kept function (a name in a string or a trailing comment keeps it
 * too, which costs a definition, never a missing one). The pieces keep their order, so each function is
 * still defined before the functions after it that call it.
 */

export interface LibraryPiece {
  /** The function the piece defines, or `null` for other statements (always kept). */
  readonly name: string | null;
  readonly text: string;
}

const FUNCTION_START = /^local function ([A-Za-z_]\w*)\s*\(/;

/** `lib`'s pieces, in order; joined with newlines they give `lib` back. */
export function libraryPieces(lib: string): LibraryPiece[] {
  const lines = lib.split("\n");
  const pieces: LibraryPiece[] = [];
  let other: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const start = FUNCTION_START.exec(lines[i]!);
    if (!start) {
      other.push(lines[i]!);
      i++;
      continue;
    }
    // The comment lines just above a function are its own.
    let comments = other.length;
    while (comments > 0 && other[comments - 1]!.startsWith("--")) comments--;
    if (comments > 0) pieces.push({ name: null, text: other.slice(0, comments).join("\n") });
    const body = other.slice(comments);
    let end = i;
    while (end < lines.length && lines[end] !== "end") end++;
    if (end === lines.length) {
      throw new Error(`Lua library: function ${start[1]} has no 'end' at the start of a line`);
    }
    body.push(...lines.slice(i, end + 1));
    pieces.push({ name: start[1]!, text: body.join("\n") });
    other = [];
    i = end + 1;
  }
  if (other.length > 0) pieces.push({ name: null, text: other.join("\n") });
  return pieces;
}

/** The words of `text` outside whole-line comments (a `--` inside a line may be in a string). */
const words = (text: string): string[] =>
  text
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("--"))
    .join("\n")
    .match(/[A-Za-z_]\w*/g) ?? [];

/** The library functions `script` needs: named in it or in kept pieces, transitively. */
export function neededFunctions(script: string, pieces: readonly LibraryPiece[]): Set<string> {
  const byName = new Map<string, LibraryPiece>();
  for (const piece of pieces) if (piece.name !== null) byName.set(piece.name, piece);
  const needed = new Set<string>();
  const pending = [script, ...pieces.filter((p) => p.name === null).map((p) => p.text)];
  while (pending.length > 0) {
    for (const word of words(pending.pop()!)) {
      const piece = byName.get(word);
      if (piece && !needed.has(word)) {
        needed.add(word);
        pending.push(piece.text);
      }
    }
  }
  return needed;
}
