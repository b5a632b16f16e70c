import { createCipheriv, createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Shared by the reliability tests (issue #8): seeded randomness, reproducible
 * frame contents, an independent frame parser (the product's own splitter must
 * not be the thing that checks the product), and resource counting for the
 * leak checks.
 */

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** The seed of this run: RELIABILITY_SEED to replay one, otherwise fresh. */
export function runSeed(): number {
  const fromEnv = process.env.RELIABILITY_SEED;
  if (fromEnv !== undefined && fromEnv !== '') return Number(fromEnv) >>> 0;
  return Math.floor(Math.random() * 2 ** 31);
}

/**
 * Deterministic pseudo-random bytes for (seed, stream, index): an AES-CTR
 * keystream, so hundreds of MiB cost milliseconds and a failing run can be
 * replayed byte for byte from its seed.
 */
export function payload(seed: number, stream: number, index: number, size: number): Buffer {
  const key = createHash('sha256').update(`reliability:${seed}`).digest().subarray(0, 16);
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(stream, 0);
  iv.writeUInt32BE(index, 4);
  return createCipheriv('aes-128-ctr', key, iv).update(Buffer.alloc(size));
}

/** A whole Kafka frame: int32 size, then `body`. */
export function frameOf(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

/**
 * Parses a TCP byte stream into frames, independently of proxy/framing.ts.
 * Chunks are kept in a list and joined once per frame, so a frame of several
 * MiB arriving in small reads costs one copy, not one per read.
 */
export class StreamFrames {
  #chunks: Buffer[] = [];
  #bytes = 0;

  /** Bytes held that do not yet make a whole frame. */
  get pendingBytes(): number {
    return this.#bytes;
  }

  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    for (;;) {
      if (this.#bytes < 4) return;
      // A size prefix split over reads: join just enough leading chunks to read it.
      while (this.#chunks[0].length < 4) this.#chunks.splice(0, 2, Buffer.concat([this.#chunks[0], this.#chunks[1]]));
      const total = 4 + this.#chunks[0].readInt32BE(0);
      if (this.#bytes < total) return;
      const all = this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks, this.#bytes);
      onFrame(all.subarray(0, total));
      const rest = all.subarray(total);
      this.#chunks = rest.length > 0 ? [rest] : [];
      this.#bytes = rest.length;
    }
  }
}

/** Index of the first differing byte, or -1 when equal. */
export function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Open file descriptors of this process (Linux). */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Active resources keeping the event loop alive, counted by type. */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** The resource types a leaked connection or timer shows up as. */
export const LEAK_TYPES = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout'] as const;

export function leakCounts(): Record<(typeof LEAK_TYPES)[number], number> {
  const all = activeResources();
  return { TCPSocketWrap: all.TCPSocketWrap ?? 0, TCPServerWrap: all.TCPServerWrap ?? 0, Timeout: all.Timeout ?? 0 };
}

let gcFn: (() => void) | null | undefined;

/**
 * A full garbage collection. Vitest does not start workers with --expose-gc, so
 * the flag is set at run time and `gc` taken from a fresh context (V8 installs
 * it on contexts created after the flag is set).
 */
export function collectGarbage(): void {
  if (gcFn === undefined) {
    const existing = (globalThis as { gc?: () => void }).gc;
    if (existing) gcFn = existing;
    else {
      setFlagsFromString('--expose-gc');
      gcFn = (runInNewContext('gc') as (() => void) | undefined) ?? null;
    }
  }
  gcFn?.();
}

/**
 * Polls `read` until `done(value)` holds, or gives up after `rounds` polls and
 * returns the last value for the assertion to report. This waits for closing
 * handshakes to finish; it is not a speed requirement, so rounds are generous.
 */
export async function settle<T>(read: () => T, done: (value: T) => boolean, options: { rounds?: number; intervalMs?: number } = {}): Promise<T> {
  const rounds = options.rounds ?? 200;
  let value = read();
  for (let i = 0; i < rounds && !done(value); i++) {
    await sleep(options.intervalMs ?? 25);
    value = read();
  }
  return value;
}

export interface Tracked<T> {
  result?: T;
  error?: unknown;
  /** The largest Buffer allocation requested while `fn` ran. */
  largest: number;
}

/**
 * Runs `fn` and records the largest Buffer it (or anything it calls) asked for,
 * so a test can show that no length read from the wire sizes an allocation.
 * Buffer.concat goes through allocUnsafe, so it is seen too.
 */
export function trackAllocations<T>(fn: () => T): Tracked<T> {
  const { alloc, allocUnsafe, allocUnsafeSlow } = Buffer;
  let largest = 0;
  const note = (size: number) => {
    if (size > largest) largest = size;
  };
  Buffer.alloc = ((size: number, fill?: string | Buffer | number, encoding?: BufferEncoding) => (note(size), alloc(size, fill, encoding))) as typeof alloc;
  Buffer.allocUnsafe = ((size: number) => (note(size), allocUnsafe(size))) as typeof allocUnsafe;
  Buffer.allocUnsafeSlow = ((size: number) => (note(size), allocUnsafeSlow(size))) as typeof allocUnsafeSlow;
  try {
    return { result: fn(), largest };
  } catch (error) {
    return { error, largest };
  } finally {
    Buffer.alloc = alloc;
    Buffer.allocUnsafe = allocUnsafe;
    Buffer.allocUnsafeSlow = allocUnsafeSlow;
  }
}
