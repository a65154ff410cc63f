/**
 * Keys with half a character in them (a lone UTF-16 surrogate, as
 * `text.slice()` leaves when it cuts an emoji) are refused wherever a key is
 * given — concurrency, rate limit, dedupe — because every store takes UTF-8,
 * where such a half becomes U+FFFD and two different keys would become one.
 * Well-formed keys, emoji and all, are taken as they are.
 */
import fc from "fast-check";
import { InvalidOptionError, MemoryBackend, Queue, TaskDefinitionError, task } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { loneSurrogateProblem } from "../../src/util/lone-surrogate.js";

const job = task({ name: "lone-surrogate-keys.job" }, (tenant: string) => tenant);
const perTenant = task(
  { name: "lone-surrogate-keys.per-tenant", concurrency: { key: (tenant) => tenant } },
  (tenant: string) => tenant,
);
const ratedPerTenant = task(
  {
    name: "lone-surrogate-keys.rated",
    rateLimit: { maxRate: 5, ratePeriod: 1, key: (tenant) => tenant },
  },
  (tenant: string) => tenant,
);

const queue = new Queue(new MemoryBackend({ instantProcessing: false }), {
  name: "lone-surrogate-keys",
});
afterAll(() => queue.close());

/** "Acme 🎉" cut after its first half: what `slice` gives for a 6-unit cut. */
const CUT = "Acme 🎉".slice(0, 6);

describe("keys with a lone surrogate", () => {
  it("finds a lone surrogate anywhere, and nothing in well-formed text", () => {
    expect(CUT).toHaveLength(6);
    expect(loneSurrogateProblem(CUT)).toMatch(/lone surrogate U\+D83C at index 5/);
    expect(loneSurrogateProblem("\uDC00abc")).toMatch(/U\+DC00 at index 0/);
    expect(loneSurrogateProblem("Acme 🎉")).toBeNull();
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (text) => {
        expect(loneSurrogateProblem(text)).toBeNull();
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        const wellFormed = [...text].every((c) => {
          const unit = c.charCodeAt(0);
          return c.length === 2 || unit < 0xd800 || unit > 0xdfff;
        });
        expect(loneSurrogateProblem(text) === null).toBe(wellFormed);
      }),
    );
  });

  it("refuses one as a concurrency key, given or computed, as a one-line error naming it; nothing is added", async () => {
    const added = () =>
      queue.add(job("x"), { concurrency: { key: CUT, limit: 1 } }).then(() => "added");
    await expect(added()).rejects.toThrow(InvalidOptionError);
    await expect(added()).rejects.toThrow(
      /^queue\.add\(\): concurrency\.key holds half a character/,
    );
    expect(() => perTenant(CUT)).toThrow(InvalidOptionError);
    expect(() => perTenant(CUT)).toThrow(
      /^task 'lone-surrogate-keys\.per-tenant': concurrency key \(its function given \["Acme \\ud83c"\]\) holds half a character/,
    );
    expect(() => perTenant("Acme 🎉")).not.toThrow();
    expect(await queue.size()).toBe(0);
  });

  it("refuses one as a rate limit key, given or computed", () => {
    expect(() => ratedPerTenant(CUT)).toThrow(
      /rate limit key \(its function given \["Acme \\ud83c"\]\) holds half a character/,
    );
    expect(() =>
      task(
        { name: "lone-surrogate-keys.fixed", rateLimit: { maxRate: 1, ratePeriod: 1, key: CUT } },
        () => null,
      ),
    ).toThrow(TaskDefinitionError);
    expect(ratedPerTenant("Acme 🎉").config.rateLimit?.key).toBe("Acme 🎉");
  });

  it("refuses one as a dedupe key", async () => {
    await expect(queue.add(job("y"), { dedupe: { key: CUT } })).rejects.toThrow(
      /dedupe\.key holds half a character/,
    );
    expect((await queue.add(job("y"), { dedupe: { key: "Acme 🎉" } })).outcome).toBe("added");
  });
});
