import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameError, FrameSplitter } from '../../proxy/framing.ts';
import { trackAllocations } from './harness.ts';

/**
 * Issue #8.3 for the frame splitter, the first code to touch client bytes.
 * proxy/framing.test.ts proves well-formed streams survive any chunking; here
 * the stream is hostile: random bytes, any size prefix, split anywhere. The
 * splitter may only emit frames it was sent, in order, or refuse with a
 * FrameError; it never holds or allocates more than one frame within the limit.
 */

interface Run {
  frames: Buffer[];
  error: unknown;
  /** Most bytes held for an incomplete frame at any point. */
  maxBuffered: number;
  largest: number;
}

function feed(maxFrameBytes: number, chunks: Buffer[]): Run {
  const splitter = new FrameSplitter({ maxFrameBytes });
  const frames: Buffer[] = [];
  let error: unknown;
  let maxBuffered = 0;
  const { largest } = trackAllocations(() => {
    for (const chunk of chunks) {
      try {
        splitter.push(chunk, (f) => frames.push(Buffer.from(f)));
      } catch (err) {
        // Once refused, every later push must be refused the same way.
        if (error !== undefined && err !== error) throw new Error('a second, different error after the first refusal');
        error = err;
      }
      maxBuffered = Math.max(maxBuffered, splitter.bufferedBytes);
    }
  });
  return { frames, error, maxBuffered, largest };
}

/** Cuts `bytes` into chunks at the given sizes (cycled), the last one taking the rest. */
function chunked(bytes: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length];
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

const chunkSizes = fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 16 });

function checkRun(run: Run, input: Buffer, maxFrameBytes: number): void {
  if (run.error !== undefined) {
    expect(run.error).toBeInstanceOf(FrameError);
    expect(['FRAME_NEGATIVE_SIZE', 'FRAME_TOO_LARGE']).toContain((run.error as FrameError).code);
  }
  // Emitted frames are exactly the input's leading bytes, whole, in order.
  const emitted = Buffer.concat(run.frames);
  expect(emitted.equals(input.subarray(0, emitted.length))).toBe(true);
  for (const f of run.frames) {
    expect(f.readInt32BE(0)).toBe(f.length - 4);
    expect(f.length - 4).toBeLessThanOrEqual(maxFrameBytes);
  }
  expect(run.maxBuffered).toBeLessThanOrEqual(4 + maxFrameBytes);
  expect(run.largest).toBeLessThanOrEqual(4 + maxFrameBytes);
}

describe('FrameSplitter under hostile input (issue #8.3)', () => {
  it('property: random bytes in random chunks yield input-prefix frames or a FrameError, holding at most one frame', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.uint8Array({ maxLength: 2000 }), chunkSizes, (max, raw, sizes) => {
        const input = Buffer.from(raw);
        checkRun(feed(max, chunked(input, sizes)), input, max);
      }),
      { numRuns: 1000 },
    );
  });

  it('property: any int32 size prefix, split anywhere, is refused with its size named, nothing buffered beyond the limit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1024, max: 64 * 1024 }),
        fc.oneof(fc.integer(), fc.constantFrom(-(2 ** 31), -1, 0x7fffffff, 100 * 1024 * 1024 + 1)),
        fc.uint8Array({ maxLength: 256 }),
        chunkSizes,
        (max, size, tail, sizes) => {
          const prefix = Buffer.alloc(4);
          prefix.writeInt32BE(size, 0);
          const input = Buffer.concat([prefix, Buffer.from(tail)]);
          const run = feed(max, chunked(input, sizes));
          checkRun(run, input, max);
          if (size < 0) expect(run.error).toMatchObject({ code: 'FRAME_NEGATIVE_SIZE', size });
          else if (size > max) expect(run.error).toMatchObject({ code: 'FRAME_TOO_LARGE', size });
          // Within the limit, the first frame comes out whole (the tail may hold a bad prefix of its own).
          else if (tail.length >= size) expect(run.frames[0]).toEqual(input.subarray(0, 4 + size));
          else expect(run.frames).toEqual([]);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('property: valid frames followed by garbage deliver every valid frame before refusing', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 8 }), fc.integer({ min: -(2 ** 31), max: -1 }), chunkSizes, (bodies, bad, sizes) => {
        const frames = bodies.map((b) => {
          const f = Buffer.alloc(4 + b.length);
          f.writeInt32BE(b.length, 0);
          Buffer.from(b).copy(f, 4);
          return f;
        });
        const badPrefix = Buffer.alloc(4);
        badPrefix.writeInt32BE(bad, 0);
        const input = Buffer.concat([...frames, badPrefix, Buffer.from('trailing')]);
        const run = feed(100, chunked(input, sizes));
        checkRun(run, input, 100);
        expect(run.frames).toEqual(frames);
        expect(run.error).toMatchObject({ code: 'FRAME_NEGATIVE_SIZE' });
      }),
      { numRuns: 500 },
    );
  });
});
