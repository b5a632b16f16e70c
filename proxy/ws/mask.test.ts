import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

type MaskModule = typeof import('./mask.ts');

/**
 * The native helper as mask.ts loads it: the same module object, so a spy sees its
 * calls. Null where the optional dependency is not installed.
 */
const bufferutil = ((): { mask: (...args: unknown[]) => void } | null => {
  try {
    return createRequire(import.meta.url)('bufferutil');
  } catch {
    return null;
  }
})();

/** A fresh copy of mask.ts, loaded with WS_NO_BUFFER_UTIL as given (it is read once, at load). */
async function loadMask(noBufferUtil: string): Promise<MaskModule> {
  vi.resetModules();
  vi.stubEnv('WS_NO_BUFFER_UTIL', noBufferUtil);
  try {
    return await import('./mask.ts');
  } finally {
    vi.unstubAllEnvs();
  }
}

/** RFC 6455 §5.3 as written: octet i of the payload XOR octet (i mod 4) of the key. */
function reference(source: Buffer, key: Buffer, position: number): Buffer {
  const out = Buffer.alloc(source.length);
  for (let i = 0; i < source.length; i++) out[i] = source[i] ^ key[(position + i) % 4];
  return out;
}

/** `length` random bytes at byte offset `offset` of a larger buffer, so views start unaligned. */
function unalignedBytes(length: number, offset: number): Buffer {
  return randomBytes(length + offset + 3).subarray(offset, offset + length);
}

const lengthArb = fc.oneof(fc.integer({ min: 0, max: 70 }), fc.integer({ min: 0, max: 5000 }));
const positionArb = fc.oneof(fc.integer({ min: 0, max: 16 }), fc.integer({ min: 0, max: 2 ** 40 }));
const offsetArb = fc.integer({ min: 0, max: 7 });
const keyArb = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((k) => Buffer.from(k));

const variants = [
  ...(bufferutil ? [{ name: 'with bufferutil', env: '', native: true }] : []),
  { name: 'with the JS fallback (WS_NO_BUFFER_UTIL=1)', env: '1', native: false },
];

describe.each(variants)('mask $name', ({ env, native }) => {
  let mask: MaskModule;
  beforeAll(async () => {
    mask = await loadMask(env);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it(native ? 'calls bufferutil for pieces of 64 bytes or more' : 'never calls bufferutil', () => {
    const spy = bufferutil ? vi.spyOn(bufferutil, 'mask') : null;
    const key = randomBytes(4);
    mask.maskInPlace(randomBytes(64), key, 0);
    mask.maskInto(randomBytes(1000), key, 3, Buffer.alloc(1000), 0);
    mask.maskInPlace(randomBytes(63), key, 0);
    expect(spy?.mock.calls.length ?? 0).toBe(native ? 2 : 0);
  });

  it('maskInto equals byte-wise XOR for random lengths, positions, keys and output offsets', () => {
    fc.assert(
      fc.property(lengthArb, positionArb, keyArb, offsetArb, offsetArb, (length, position, key, sourceOffset, outputOffset) => {
        const source = unalignedBytes(length, sourceOffset);
        const before = Buffer.from(source);
        const output = Buffer.alloc(outputOffset + length + 2, 0xee);
        mask.maskInto(source, key, position, output, outputOffset);
        expect(output.subarray(outputOffset, outputOffset + length).equals(reference(before, key, position))).toBe(true);
        // Nothing outside the target range, and the source untouched.
        expect(output.subarray(0, outputOffset).every((b) => b === 0xee)).toBe(true);
        expect(output.subarray(outputOffset + length).every((b) => b === 0xee)).toBe(true);
        expect(source.equals(before)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('maskInPlace equals byte-wise XOR on views at unaligned byte offsets', () => {
    fc.assert(
      fc.property(lengthArb, positionArb, keyArb, offsetArb, (length, position, key, offset) => {
        const backing = randomBytes(length + 16);
        const data = backing.subarray(offset, offset + length);
        const before = Buffer.from(backing);
        mask.maskInPlace(data, key, position);
        expect(data.equals(reference(before.subarray(offset, offset + length), key, position))).toBe(true);
        // The bytes around the view are not touched (the word loop stays inside it).
        expect(backing.subarray(0, offset).equals(before.subarray(0, offset))).toBe(true);
        expect(backing.subarray(offset + length).equals(before.subarray(offset + length))).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('maskInto with the source as its own output (offset 0) masks in place', () => {
    for (const length of [0, 1, 3, 4, 7, 63, 64, 65, 1000]) {
      for (let position = 0; position < 4; position++) {
        const data = unalignedBytes(length, 1);
        const key = randomBytes(4);
        const expected = reference(data, key, position);
        mask.maskInto(data, key, position, data, 0);
        expect(data.equals(expected), `length ${length} position ${position}`).toBe(true);
      }
    }
  });

  it('masks a message in uneven pieces at odd positions the same as whole', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20_000 }),
        fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 20 }),
        keyArb,
        fc.boolean(),
        (length, sizes, key, inPlace) => {
          const message = randomBytes(length);
          const whole = reference(message, key, 0);
          const out = Buffer.alloc(length);
          let position = 0;
          for (let i = 0; position < length; i++) {
            const size = Math.min(sizes[i % sizes.length], length - position);
            // Each piece copied to an odd offset of its own buffer, as pieces of a socket read would be.
            const piece = unalignedBytes(size, (i % 3) + 1);
            message.copy(piece, 0, position, position + size);
            if (inPlace) {
              mask.maskInPlace(piece, key, position);
              piece.copy(out, position);
            } else {
              mask.maskInto(piece, key, position, out, position);
            }
            position += size;
          }
          expect(out.equals(whole)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('unmasks what it masked (the operation is its own inverse)', () => {
    const data = randomBytes(100_003);
    const copy = Buffer.from(data);
    const key = randomBytes(4);
    mask.maskInPlace(data, key, 5);
    mask.maskInPlace(data, key, 5);
    expect(data.equals(copy)).toBe(true);
  });
});

describe('newMaskKey', () => {
  let mask: MaskModule;
  beforeAll(async () => {
    mask = await import('./mask.ts');
  });

  it('returns 4 bytes, different on each call', () => {
    let previous = mask.newMaskKey();
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const key = mask.newMaskKey();
      expect(key.length).toBe(4);
      // Two equal consecutive random keys: 1 in 2^32 per call.
      expect(key.equals(previous)).toBe(false);
      seen.add(key.toString('hex'));
      previous = key;
    }
    // Not one repeated key (or a short cycle): a few birthday collisions at most.
    expect(seen.size).toBeGreaterThan(4990);
  });

  it('leaves a key it handed out unchanged while later keys are drawn (the pool is refilled, not overwritten)', () => {
    // link.ts keeps a message's key while it streams, and draws more for pings meanwhile.
    const key = mask.newMaskKey();
    const copy = Buffer.from(key);
    for (let i = 0; i < 10_000; i++) mask.newMaskKey();
    expect(key.equals(copy)).toBe(true);
  });
});
