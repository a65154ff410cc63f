/** JSON values with one `Date` somewhere inside, for property tests of where a `Date` is refused. */
import fc from "fast-check";

/** A value holding one Date, the path to it (as error messages write it, after the root) and its stored form. */
export interface WithDate {
  readonly value: unknown;
  readonly path: string;
  /** The value as JSON stores it: the Date as its ISO text. */
  readonly stored: unknown;
}

const key = fc.stringMatching(/^[a-z]{1,6}$/);
const json = fc.jsonValue({ maxDepth: 2 });

/** A Date alone, or inside arrays and objects of other JSON (a few levels deep). */
export const jsonWithDate: fc.Arbitrary<WithDate> = fc.letrec<{ node: WithDate }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.date({ noInvalidDate: true }).map((date) => ({
      value: date,
      path: "",
      stored: date.toISOString(),
    })),
    fc.tuple(fc.array(json, { maxLength: 3 }), tie("node"), fc.nat()).map(([items, inner, at]) => {
      const index = at % (items.length + 1);
      const value: unknown[] = [...items];
      const stored: unknown[] = [...items];
      value.splice(index, 0, inner.value);
      stored.splice(index, 0, inner.stored);
      return { value, path: `[${index}]${inner.path}`, stored };
    }),
    fc
      .tuple(fc.dictionary(key, json, { maxKeys: 3 }), key, tie("node"))
      .map(([entries, name, inner]) => ({
        value: { ...entries, [name]: inner.value },
        path: `.${name}${inner.path}`,
        stored: { ...entries, [name]: inner.stored },
      })),
  ),
})).node;
