import fc from 'fast-check';

/**
 * Mutations of valid Kafka bytes for the fuzz tests: cuts, byte edits, hostile
 * int32/int16 lengths and counts, over-long varints, inserted junk. Applied to
 * a valid body they reach fields that random bytes rarely get to.
 */

/** Lengths and counts that have broken parsers before: sign bits, near-limits, absurd sizes. */
const HOSTILE_INT32 = [-(2 ** 31), -2, -1, 0, 0x7fffffff, 0x40000000, 0x10000, 1_000_000];
const HOSTILE_INT16 = [-32768, -2, -1, 0x7fff];
/** Unsigned varints: the 5-byte maximum, an over-long one, and a huge compact length. */
const HOSTILE_VARINTS = [
  [0xff, 0xff, 0xff, 0xff, 0x0f],
  [0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
  [0x80, 0x80, 0x80, 0x80, 0x08],
  [0xff, 0xff, 0x03],
];

export type Mutation = (bytes: Buffer) => Buffer;

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat().map((n): Mutation => (b) => b.subarray(0, n % (b.length + 1))),
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }).map((edits): Mutation => (b) => {
    const out = Buffer.from(b);
    for (const [at, value] of edits) if (out.length > 0) out[at % out.length] = value;
    return out;
  }),
  fc.tuple(fc.nat(), fc.constantFrom(...HOSTILE_INT32)).map(([at, value]): Mutation => (b) => {
    const out = Buffer.from(b);
    if (out.length >= 4) out.writeInt32BE(value, at % (out.length - 3));
    return out;
  }),
  fc.tuple(fc.nat(), fc.constantFrom(...HOSTILE_INT16)).map(([at, value]): Mutation => (b) => {
    const out = Buffer.from(b);
    if (out.length >= 2) out.writeInt16BE(value, at % (out.length - 1));
    return out;
  }),
  fc.tuple(fc.nat(), fc.constantFrom(...HOSTILE_VARINTS)).map(([at, varint]): Mutation => (b) => {
    const cut = at % (b.length + 1);
    return Buffer.concat([b.subarray(0, cut), Buffer.from(varint), b.subarray(Math.min(b.length, cut + varint.length))]);
  }),
  fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([at, extra]): Mutation => (b) => {
    const cut = at % (b.length + 1);
    return Buffer.concat([b.subarray(0, cut), Buffer.from(extra), b.subarray(cut)]);
  }),
);

