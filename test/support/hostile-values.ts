/**
 * Hostile values for tests of "nothing a task throws can break anything":
 * values whose every read throws (Proxies, getters, revoked proxies), that
 * cannot become text, that contain cycles, BigInts, Symbols, functions, very
 * long text — alone or nested inside errors with causes, properties and
 * schema issues. fast-check looks at the values it generates (to clone or
 * print them), which such values do not allow: it generates recipes, and
 * `build` makes the values.
 */
import fc from "fast-check";

/** Throws `thrown` every time it is called: a getter or method that fails. */
export function thrower(thrown: unknown = new Error("trap")): () => never {
  return () => {
    throw thrown;
  };
}

/** A Proxy whose every trap throws. */
export function hostileProxy<T extends object>(target: T, thrown: unknown = new Error("trap")): T {
  const handler: ProxyHandler<T> = {};
  for (const trap of [
    "apply",
    "construct",
    "defineProperty",
    "deleteProperty",
    "get",
    "getOwnPropertyDescriptor",
    "getPrototypeOf",
    "has",
    "isExtensible",
    "ownKeys",
    "preventExtensions",
    "set",
    "setPrototypeOf",
  ] as const) {
    (handler as Record<string, unknown>)[trap] = thrower(thrown);
  }
  return new Proxy(target, handler);
}

/** A Proxy that was revoked: touching it in any way throws a TypeError. */
export function revokedProxy(target: object = {}): object {
  const { proxy, revoke } = Proxy.revocable(target, {});
  revoke();
  return proxy;
}

/** An object whose every way of becoming a primitive throws. */
export function unprintable(): object {
  return {
    toString: thrower(),
    valueOf: thrower(),
    toJSON: thrower(),
    [Symbol.toPrimitive]: thrower(),
  };
}

/** An object without prototype holding a function, which neither JSON nor String() can handle. */
export function bareWithFunction(): object {
  return Object.assign(Object.create(null) as object, { handler: () => 1, n: 1 });
}

/** Defines `key` on `target` as a getter that throws `thrown`. */
export function throwingGetter<T extends object>(
  target: T,
  key: string,
  thrown: unknown,
  enumerable = true,
): T {
  return Object.defineProperty(target, key, {
    get: thrower(thrown),
    enumerable,
    configurable: true,
  });
}

export const anything = fc.anything({
  maxDepth: 3,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withNullPrototype: true,
  withObjectString: true,
  withSet: true,
  withSparseArray: true,
  withTypedArray: true,
  stringUnit: "binary",
});

// fast-check looks at the values it generates (to clone or print them), which hostile
// values do not allow: it generates recipes, and the property builds the values.
export type Recipe =
  | { kind: "any"; value: unknown }
  | { kind: "revoked" | "unprintable" | "bare" | "cycle" }
  | { kind: "proxy"; target: "error" | "object" | "function" }
  | { kind: "bigint"; value: bigint }
  | { kind: "symbol" | "function"; name: string }
  | { kind: "long"; length: number }
  | ErrorRecipe;

interface ErrorRecipe {
  kind: "error";
  type: "Error" | "TypeError" | "subclass" | "named" | "AggregateError" | "nullPrototype";
  message: string | Recipe;
  name: string;
  cause: Recipe | undefined;
  selfCause: boolean;
  props: [string, Recipe][];
  /** Path segments: `true` wraps one in `{ key }`, as Standard Schema may. */
  issues: { message: Recipe; path: [boolean, Recipe][] }[] | undefined;
  throwingGetters: ("message" | "name" | "stack" | "cause" | "issues" | "extra")[];
  thrown: Recipe;
  brokenPrototype: boolean;
}

const leaf: fc.Arbitrary<Recipe> = fc.oneof(
  { weight: 4, arbitrary: anything.map((value): Recipe => ({ kind: "any", value })) },
  fc.constantFrom<Recipe>(
    { kind: "revoked" },
    { kind: "unprintable" },
    { kind: "bare" },
    { kind: "cycle" },
    { kind: "proxy", target: "error" },
    { kind: "proxy", target: "object" },
    { kind: "proxy", target: "function" },
  ),
  fc.bigInt().map((value): Recipe => ({ kind: "bigint", value })),
  fc.string().map((name): Recipe => ({ kind: "symbol", name })),
  fc.string().map((name): Recipe => ({ kind: "function", name })),
  fc.integer({ min: 9_000, max: 40_000 }).map((length): Recipe => ({ kind: "long", length })),
);

export const { recipe } = fc.letrec<{ recipe: Recipe; error: ErrorRecipe }>((tie) => ({
  recipe: fc.oneof({ depthSize: "small", maxDepth: 4 }, leaf, tie("error")),
  error: fc.record({
    kind: fc.constant("error" as const),
    type: fc.constantFrom(
      "Error",
      "TypeError",
      "subclass",
      "named",
      "AggregateError",
      "nullPrototype",
    ) as fc.Arbitrary<ErrorRecipe["type"]>,
    message: fc.oneof(fc.string(), tie("recipe")),
    name: fc.string(),
    cause: fc.option(tie("recipe"), { nil: undefined }),
    selfCause: fc.boolean(),
    props: fc.array(fc.tuple(fc.string({ maxLength: 8 }), tie("recipe")), { maxLength: 4 }),
    issues: fc.option(
      fc.array(
        fc.record({
          message: tie("recipe"),
          path: fc.array(fc.tuple(fc.boolean(), tie("recipe")), { maxLength: 4 }),
        }),
        { maxLength: 3 },
      ),
      { nil: undefined },
    ),
    // `stack` first: redefining it makes V8 format the stack, which reads `name`.
    throwingGetters: fc.subarray([
      "stack",
      "message",
      "name",
      "cause",
      "issues",
      "extra",
    ] as ErrorRecipe["throwingGetters"]),
    thrown: leaf,
    brokenPrototype: fc.boolean(),
  }),
}));

export function build(r: Recipe): unknown {
  switch (r.kind) {
    case "any":
      return r.value;
    case "revoked":
      return revokedProxy();
    case "unprintable":
      return unprintable();
    case "bare":
      return bareWithFunction();
    case "cycle": {
      const loop: Record<string, unknown> = { n: 1 };
      loop.loop = loop;
      return loop;
    }
    case "proxy":
      return hostileProxy(
        r.target === "error" ? new Error("in proxy") : r.target === "object" ? {} : () => 1,
      );
    case "bigint":
      return r.value;
    case "symbol":
      return Symbol(r.name);
    case "function":
      return Object.defineProperty(() => 1, "name", { value: r.name });
    case "long":
      return "é".repeat(r.length);
    case "error":
      return buildError(r);
  }
}

/**
 * Applies one change to an error being built. V8 refuses some — redefining
 * `stack` formats it, which reads `name` and `message` — and then the error
 * is built without that change.
 */
function tryTo(change: () => unknown): void {
  try {
    change();
  } catch {
    // Refused by V8 itself: not what is under test.
  }
}

function buildError(r: ErrorRecipe): Error {
  const message = typeof r.message === "string" ? r.message : build(r.message);
  const text = typeof message === "string" ? message : "";
  let error: Error;
  switch (r.type) {
    case "TypeError":
      error = new TypeError(text);
      break;
    case "subclass":
      error = new (class UserError extends Error {})(text);
      break;
    case "named":
      error = new Error(text);
      error.name = r.name;
      break;
    case "AggregateError":
      error = new AggregateError([message, build(r.thrown)], text);
      break;
    default:
      error = new Error(text);
  }
  const target = error;
  if (r.type === "nullPrototype") Object.setPrototypeOf(target, null);
  if (typeof message !== "string") {
    tryTo(() => Object.defineProperty(target, "message", { value: message, configurable: true }));
  }
  if (r.cause !== undefined) {
    const cause = build(r.cause);
    tryTo(() => Object.defineProperty(target, "cause", { value: cause, configurable: true }));
  }
  if (r.selfCause) {
    tryTo(() => Object.defineProperty(target, "cause", { value: target, configurable: true }));
  }
  for (const [key, item] of r.props) {
    const value = build(item);
    tryTo(() =>
      Object.defineProperty(target, key, { value, enumerable: true, configurable: true }),
    );
  }
  if (r.issues) {
    const issues = r.issues.map((issue) => ({
      message: build(issue.message),
      path: issue.path.map(([wrap, segment]) => (wrap ? { key: build(segment) } : build(segment))),
    }));
    tryTo(() => Object.defineProperty(target, "issues", { value: issues, configurable: true }));
  }
  for (const name of r.throwingGetters) {
    const thrown = build(r.thrown);
    tryTo(() => throwingGetter(target, name, thrown));
  }
  if (r.brokenPrototype) Object.setPrototypeOf(target, hostileProxy(Error.prototype));
  return error;
}
