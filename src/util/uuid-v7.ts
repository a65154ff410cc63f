/**
 * @module util/uuid-v7
 * Time-ordered UUIDs (RFC 9562 version 7): 48 bits of Unix milliseconds,
 * a 12-bit counter, then random bits. Ids made one after another sort near
 * each other, so a database index on them grows at its end instead of
 * touching a random page per insert — which is most of the cost of a bulk
 * insert into a B-tree. Within one process ids sort in the order they were
 * made: the counter orders those of one millisecond, and when it runs out
 * (or the clock steps back) the stamp moves on by a millisecond.
 */
import { randomFillSync } from "node:crypto";

const POOL = 256;
const random = new Uint8Array(16 * POOL);
let next = POOL;
let lastMs = -1;
let counter = 0;

const HEX_DIGITS = Buffer.from("0123456789abcdef", "latin1");
/** Where each byte's two hex digits go in the 36 characters; the dashes sit between. */
const OFFSETS = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
const text = Buffer.from("00000000-0000-0000-0000-000000000000", "latin1");

function randomBytes(): Uint8Array {
  if (next === POOL) {
    randomFillSync(random);
    next = 0;
  }
  next++;
  return random.subarray((next - 1) * 16, next * 16);
}

/** A new version-7 UUID, in lower case, later in sort order than every one this process made before. */
export function uuidV7(): string {
  const bytes = randomBytes();
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    // Start low in the counter's range, so many ids of one millisecond fit.
    counter = bytes[6]! & 0x3f;
  } else if (++counter > 0xfff) {
    lastMs++;
    counter = bytes[6]! & 0x3f;
  }
  return formatUuidV7(lastMs, counter, bytes);
}

/** The UUID text of stamp `ms`, counter `count` (12 bits) and the random bits of `bytes` (16; changed). */
export function formatUuidV7(ms: number, count: number, bytes: Uint8Array): string {
  const high = Math.floor(ms / 2 ** 16);
  bytes[0] = (high >>> 24) & 0xff;
  bytes[1] = (high >>> 16) & 0xff;
  bytes[2] = (high >>> 8) & 0xff;
  bytes[3] = high & 0xff;
  bytes[4] = (ms >>> 8) & 0xff;
  bytes[5] = ms & 0xff;
  bytes[6] = 0x70 | ((count >>> 8) & 0x0f);
  bytes[7] = count & 0xff;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  for (let i = 0; i < 16; i++) {
    text[OFFSETS[i]!] = HEX_DIGITS[bytes[i]! >>> 4]!;
    text[OFFSETS[i]! + 1] = HEX_DIGITS[bytes[i]! & 0x0f]!;
  }
  // One flat string (joined pieces would stay in memory as a tree of them).
  return text.toString("latin1");
}
