import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FrameError, FrameSplitter } from './framing.ts';

function frame(body: number[] | Buffer): Buffer {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const out = Buffer.alloc(4 + b.length);
  out.writeInt32BE(b.length, 0);
  b.copy(out, 4);
  return out;
}

function collect(splitter: FrameSplitter, chunks: Buffer[]): Buffer[] {
  const frames: Buffer[] = [];
  for (const c of chunks) splitter.push(c, (f) => frames.push(Buffer.from(f)));
  return frames;
}

describe('FrameSplitter', () => {
  const a = frame([1, 2, 3]);
  const b = frame([]);
  const c = frame([9, 8, 7, 6, 5]);
  const stream = Buffer.concat([a, b, c]);

  it('emits three frames from one chunk, prefix included', () => {
    const frames = collect(new FrameSplitter({ maxFrameBytes: 100 }), [stream]);
    expect(frames).toEqual([a, b, c]);
  });

  it('reassembles frames split at every possible boundary', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const frames = collect(new FrameSplitter({ maxFrameBytes: 100 }), [stream.subarray(0, cut), stream.subarray(cut)]);
      expect(frames, `cut at ${cut}`).toEqual([a, b, c]);
    }
  });

  it('reassembles a stream fed one byte at a time (size prefix across chunks)', () => {
    const chunks = [...stream].map((byte) => Buffer.from([byte]));
    expect(collect(new FrameSplitter({ maxFrameBytes: 100 }), chunks)).toEqual([a, b, c]);
  });

  it('slices whole frames out of a chunk without copying', () => {
    const seen: Buffer[] = [];
    new FrameSplitter({ maxFrameBytes: 100 }).push(stream, (f) => seen.push(f));
    expect(seen[0].buffer).toBe(stream.buffer);
    expect(seen[2].byteOffset).toBe(stream.byteOffset + a.length + b.length);
  });

  it('keeps the remainder of an incomplete frame', () => {
    const s = new FrameSplitter({ maxFrameBytes: 100 });
    expect(collect(s, [c.subarray(0, 6)])).toEqual([]);
    expect(s.bufferedBytes).toBe(6);
    expect(s.expectedBytes).toBe(5);
  });

  it('rejects a negative size with a coded error, then refuses more input', () => {
    const s = new FrameSplitter({ maxFrameBytes: 100 });
    const bad = Buffer.from([0xff, 0xff, 0xff, 0xfe]);
    expect(() => s.push(bad, () => {})).toThrow(expect.objectContaining({ code: 'FRAME_NEGATIVE_SIZE', size: -2 }));
    expect(() => s.push(a, () => {})).toThrow(FrameError);
  });

  it('rejects a size above the limit even when the prefix spans chunks', () => {
    const s = new FrameSplitter({ maxFrameBytes: 1024 });
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(1025, 0);
    s.push(prefix.subarray(0, 2), () => {});
    expect(() => s.push(prefix.subarray(2), () => {})).toThrow(expect.objectContaining({ code: 'FRAME_TOO_LARGE', size: 1025 }));
  });

  it('accepts a frame exactly at the limit', () => {
    const big = frame(Buffer.alloc(1024, 7));
    expect(collect(new FrameSplitter({ maxFrameBytes: 1024 }), [big.subarray(0, 500), big.subarray(500)])).toEqual([big]);
  });

  it('property: any chunking of any frames yields the same frames', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 20 }),
        (bodies, sizes) => {
          const frames = bodies.map((b) => frame(Buffer.from(b)));
          const all = Buffer.concat(frames);
          const chunks: Buffer[] = [];
          for (let off = 0, i = 0; off < all.length; i++) {
            const n = sizes[i % sizes.length];
            chunks.push(all.subarray(off, off + n));
            off += n;
          }
          expect(collect(new FrameSplitter({ maxFrameBytes: 1000 }), chunks)).toEqual(frames);
        },
      ),
    );
  });
});
