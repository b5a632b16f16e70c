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

describe('FrameSplitter with a FrameStream', () => {
  const STREAM_FROM = 1024;
  const HEAD = 64;

  /** Records what a splitter does with each frame: whole (onFrame) or streamed (start + parts). */
  function run(chunks: Buffer[], accept: (head: Buffer, total: number) => boolean) {
    const splitter = new FrameSplitter({ maxFrameBytes: 1 << 20, streamFromBytes: STREAM_FROM, headBytes: HEAD });
    const whole: Buffer[] = [];
    const streamed: { head: Buffer; total: number; parts: Buffer[]; lastFlags: boolean[] }[] = [];
    const sink = {
      start: (head: Buffer, total: number) => {
        const ok = accept(head, total);
        if (ok) streamed.push({ head: Buffer.from(head), total, parts: [], lastFlags: [] });
        return ok;
      },
      part: (bytes: Buffer, last: boolean) => {
        const s = streamed[streamed.length - 1];
        s.parts.push(Buffer.from(bytes));
        s.lastFlags.push(last);
      },
    };
    for (const c of chunks) splitter.push(c, (f) => whole.push(Buffer.from(f)), sink);
    return { whole, streamed, splitter };
  }

  const big = frame(Buffer.from(Buffer.alloc(5000).map((_, i) => i & 0xff)));
  const small = frame([1, 2, 3]);

  it('streams a large frame as it arrives: head first, parts that add up to the frame, last flagged once', () => {
    const chunks = [Buffer.concat([small, big.subarray(0, 700)]), big.subarray(700, 3000), big.subarray(3000), small];
    const { whole, streamed } = run(chunks, () => true);
    expect(whole).toEqual([small, small]);
    expect(streamed).toHaveLength(1);
    expect(streamed[0].total).toBe(big.length);
    expect(streamed[0].head.equals(big.subarray(0, 700))).toBe(true);
    expect(Buffer.concat(streamed[0].parts).equals(big)).toBe(true);
    expect(streamed[0].lastFlags).toEqual([false, false, true]);
  });

  it('asks only once the head has arrived, however the frame is cut', () => {
    for (const step of [1, 3, 13, 64, 65, 999]) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < big.length; at += step) chunks.push(big.subarray(at, at + step));
      const heads: number[] = [];
      const { streamed, whole } = run(chunks, (head) => {
        heads.push(head.length);
        return true;
      });
      expect(whole, `step ${step}`).toEqual([]);
      expect(heads, `step ${step}`).toHaveLength(1);
      expect(heads[0], `step ${step}`).toBeGreaterThanOrEqual(HEAD);
      expect(Buffer.concat(streamed[0].parts).equals(big), `step ${step}`).toBe(true);
    }
  });

  it('gathers a frame the stream declines, and asks about it only once', () => {
    let asked = 0;
    const chunks: Buffer[] = [];
    for (let at = 0; at < big.length; at += 100) chunks.push(big.subarray(at, at + 100));
    const { whole, streamed } = run(chunks, () => {
      asked++;
      return false;
    });
    expect(asked).toBe(1);
    expect(streamed).toEqual([]);
    expect(whole).toEqual([big]);
  });

  it('never offers small frames, nor a large frame that arrives whole in one chunk', () => {
    let asked = 0;
    const { whole } = run([Buffer.concat([small, big, small])], () => {
      asked++;
      return true;
    });
    expect(asked).toBe(0);
    expect(whole).toEqual([small, big, small]);
  });

  it('reports how much of a streamed frame has passed, for the "client left mid-frame" message', () => {
    const { splitter } = run([big.subarray(0, 2000)], () => true);
    expect(splitter.bufferedBytes).toBe(2000);
    expect(splitter.expectedBytes).toBe(big.length - 4);
  });

  it('property: any chunking, any accept/decline pattern: every frame once, in order, byte-identical', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 4000 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
        (sizes, cuts, answers) => {
          const frames = sizes.map((n, i) => frame(Buffer.alloc(n, i + 1)));
          const all = Buffer.concat(frames);
          const chunks: Buffer[] = [];
          let at = 0;
          for (let i = 0; at < all.length; i++) {
            const n = cuts[i % cuts.length];
            chunks.push(all.subarray(at, at + n));
            at += n;
          }
          let asked = 0;
          const out: Buffer[] = [];
          const splitter = new FrameSplitter({ maxFrameBytes: 1 << 20, streamFromBytes: STREAM_FROM, headBytes: HEAD });
          let current: Buffer[] | null = null;
          for (const c of chunks) {
            splitter.push(c, (f) => out.push(Buffer.from(f)), {
              start: () => {
                const ok = answers[asked++ % answers.length];
                if (ok) current = [];
                return ok;
              },
              part: (bytes, last) => {
                current!.push(Buffer.from(bytes));
                if (last) {
                  out.push(Buffer.concat(current!));
                  current = null;
                }
              },
            });
          }
          expect(out).toEqual(frames);
        },
      ),
    );
  });
});
