import { randomFillSync } from 'node:crypto';
import { createRequire } from 'node:module';

/**
 * WebSocket masking (RFC 6455 §5.3): client-to-server payload bytes are XORed
 * with a 4-byte key. We mask a message in pieces as it streams, so each piece
 * says where it starts in the payload (`position`) and the key is rotated to
 * match. bufferutil (an optional dependency with prebuilt binaries, also what
 * ws uses) does ~12 GB/s here; the word-at-a-time fallback about 2 GB/s.
 */

interface NativeMask {
  mask(source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number): void;
}

function loadNative(): NativeMask | null {
  if (process.env.WS_NO_BUFFER_UTIL) return null;
  try {
    return createRequire(import.meta.url)('bufferutil') as NativeMask;
  } catch {
    return null;
  }
}

const native = loadNative();
/** Below this, a call into the native helper costs more than the loop. */
const NATIVE_FROM_BYTES = 64;
const KEY_POOL_BYTES = 8192;
let keyPool = Buffer.alloc(0);
let keyOffset = 0;

/**
 * A fresh, unpredictable masking key, as §5.3 requires: cut from a pool of
 * random bytes refilled a few kilobytes at a time (one system call per 2048 keys).
 */
export function newMaskKey(): Buffer {
  if (keyOffset + 4 > keyPool.length) {
    keyPool = randomFillSync(Buffer.allocUnsafe(KEY_POOL_BYTES));
    keyOffset = 0;
  }
  const key = keyPool.subarray(keyOffset, keyOffset + 4);
  keyOffset += 4;
  return key;
}

/** The key as it applies to a piece starting `position` bytes into the payload. */
function rotated(key: Buffer, position: number): Buffer {
  const shift = position & 3;
  if (shift === 0) return key;
  return Buffer.from([key[shift], key[(shift + 1) & 3], key[(shift + 2) & 3], key[(shift + 3) & 3]]);
}

/**
 * Writes `source` masked into `output` at `offset` (`output` may be `source`
 * itself, offset 0: masking in place). `position` is where `source` starts
 * within the message payload. Unmasking is the same operation.
 */
export function maskInto(source: Buffer, key: Buffer, position: number, output: Buffer, offset: number): void {
  const k = rotated(key, position);
  const length = source.length;
  if (native && length >= NATIVE_FROM_BYTES) {
    native.mask(source, k, output, offset, length);
    return;
  }
  if (output === source && offset === 0) {
    maskInPlaceFallback(source, k);
    return;
  }
  for (let i = 0; i < length; i++) output[offset + i] = source[i] ^ k[i & 3];
}

/** Masks `data` in place; see maskInto. */
export function maskInPlace(data: Buffer, key: Buffer, position: number): void {
  maskInto(data, key, position, data, 0);
}

/** XORs whole aligned 32-bit words, byte loops for the ragged ends. */
function maskInPlaceFallback(data: Buffer, key: Buffer): void {
  const length = data.length;
  let i = 0;
  while (i < length && ((data.byteOffset + i) & 3) !== 0) {
    data[i] ^= key[i & 3];
    i++;
  }
  const words = (length - i) >>> 2;
  if (words > 0) {
    // The key as one word in this machine's byte order, lined up with byte i.
    const lined = new Uint8Array([key[i & 3], key[(i + 1) & 3], key[(i + 2) & 3], key[(i + 3) & 3]]);
    const word = new Int32Array(lined.buffer)[0];
    const view = new Int32Array(data.buffer, data.byteOffset + i, words);
    for (let w = 0; w < words; w++) view[w] ^= word;
    i += words * 4;
  }
  for (; i < length; i++) data[i] ^= key[i & 3];
}
