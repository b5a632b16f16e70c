import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import * as ws from 'ws';
import { describe, expect, it } from 'vitest';
import { CloseCode, encodeHeader, FrameParseError, FrameParser, Opcode, type FrameHeader, type FrameParserOptions } from './frame-parser.ts';
import { maskInto } from './mask.ts';

/** ws's own encoder (untyped in @types/ws): what it frames, we must parse. */
const { Sender } = ws as unknown as {
  Sender: {
    frame(
      data: Buffer,
      options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; maskBuffer?: Buffer; generateMask?: (mask: Buffer) => void },
    ): Buffer[];
  };
};

interface Frame {
  header: FrameHeader;
  /** The payload slices as given, concatenated. */
  readonly payload: Buffer;
  slices: Buffer[];
  ended: boolean;
}

/** A sink that records every frame, keeping the payload slices exactly as handed over. */
function recorder(): { frames: Frame[]; sink: Parameters<FrameParser['push']>[1] } {
  const frames: Frame[] = [];
  const current = () => {
    const frame = frames.at(-1);
    if (!frame || frame.ended) throw new Error('payload or end outside a frame');
    return frame;
  };
  return {
    frames,
    sink: {
      header(header) {
        if (frames.length > 0 && !frames.at(-1)!.ended) throw new Error('header before the previous frame ended');
        const slices: Buffer[] = [];
        frames.push({
          header,
          slices,
          ended: false,
          get payload() {
            return Buffer.concat(slices);
          },
        });
      },
      payload(bytes) {
        const frame = current();
        frame.slices.push(bytes);
      },
      end() {
        current().ended = true;
      },
    },
  };
}

function parse(chunks: Buffer[], options: Partial<FrameParserOptions> = {}): Frame[] {
  const parser = new FrameParser({ maxFrameBytes: 1 << 20, expectMasked: false, ...options });
  const { frames, sink } = recorder();
  for (const chunk of chunks) parser.push(chunk, sink);
  return frames;
}

/** Frames `data` with ws's Sender; masked with `key` when given. */
function wsFrame(data: Buffer, options: { opcode?: number; fin?: boolean; key?: Buffer } = {}): Buffer {
  const { key } = options;
  return Buffer.concat(
    Sender.frame(Buffer.from(data), {
      fin: options.fin ?? true,
      opcode: options.opcode ?? Opcode.Binary,
      mask: key !== undefined,
      readOnly: true,
      maskBuffer: Buffer.alloc(4),
      generateMask: key ? (m) => key.copy(m) : undefined,
    }),
  );
}

function unmask(frame: Frame): Buffer {
  if (!frame.header.mask) return frame.payload;
  const out = Buffer.alloc(frame.payload.length);
  maskInto(frame.payload, frame.header.mask, 0, out, 0);
  return out;
}

/** Every way to cut `bytes` in two. */
function cutsOf(bytes: Buffer): Buffer[][] {
  const cuts: Buffer[][] = [];
  for (let at = 0; at <= bytes.length; at++) cuts.push([bytes.subarray(0, at), bytes.subarray(at)]);
  return cuts;
}

/** Same buffers, compared as bytes (toEqual walks large buffers element by element). */
function expectBuffers(actual: Buffer[], expected: Buffer[], what = ''): void {
  expect(actual.map((b) => b.length), what).toEqual(expected.map((b) => b.length));
  actual.forEach((b, i) => expect(b.equals(expected[i]), `${what} buffer ${i}`).toBe(true));
}

function catchError(fn: () => void): FrameParseError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FrameParseError);
    return err as FrameParseError;
  }
  throw new Error('expected a FrameParseError');
}

const KEY = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
/** One length of each header form, and the edges between them. */
const LENGTHS = [0, 1, 125, 126, 127, 65535, 65536, 70000];

describe('FrameParser: header length forms', () => {
  for (const length of LENGTHS) {
    for (const masked of [false, true]) {
      it(`reads a ${length}-byte ${masked ? 'masked' : 'unmasked'} frame encoded by ws`, () => {
        const data = randomBytes(length);
        const bytes = wsFrame(data, masked ? { key: KEY } : {});
        const [frame, ...rest] = parse([bytes], { expectMasked: masked });
        expect(rest).toEqual([]);
        expect(frame.header).toEqual({ fin: true, opcode: Opcode.Binary, mask: masked ? KEY : null, length });
        expect(frame.ended).toBe(true);
        expect(unmask(frame).equals(data)).toBe(true);
        if (length === 0) expect(frame.slices).toEqual([]);
      });
    }
  }

  it('reads a 64-bit length up to 2^53 - 1 without its payload having to be there', () => {
    for (const length of [2 ** 32 - 1, 2 ** 32, 2 ** 32 + 7, Number.MAX_SAFE_INTEGER]) {
      const header = encodeHeader({ opcode: Opcode.Binary, length, mask: null });
      expect(header[1]).toBe(127);
      const frames = parse([header, Buffer.from('abc')], { maxFrameBytes: Number.MAX_SAFE_INTEGER });
      expect(frames).toHaveLength(1);
      expect(frames[0].header.length).toBe(length);
      expect(frames[0].payload.toString()).toBe('abc');
      expect(frames[0].ended).toBe(false);
    }
  });

  it('keeps the masking key of a frame stable after the header buffer is reused', () => {
    const first = wsFrame(Buffer.from('one'), { key: KEY });
    const second = wsFrame(Buffer.from('two'), { key: Buffer.from([1, 2, 3, 4]) });
    // Byte by byte, so both headers are gathered in the parser's own buffer.
    const bytes = Buffer.concat([first, second]);
    const frames = parse([...bytes].map((b) => Buffer.from([b])), { expectMasked: true });
    expect(frames.map((f) => f.header.mask)).toEqual([KEY, Buffer.from([1, 2, 3, 4])]);
    expect(frames.map((f) => unmask(f).toString())).toEqual(['one', 'two']);
  });
});

describe('FrameParser: chunking', () => {
  for (const length of [0, 5, 125, 126, 300, 65535, 65536]) {
    for (const masked of [false, true]) {
      it(`reads a ${length}-byte ${masked ? 'masked' : 'unmasked'} frame cut at every header byte and into the payload`, () => {
        const data = randomBytes(length);
        const bytes = wsFrame(data, masked ? { key: KEY } : {});
        const headerBytes = bytes.length - length;
        for (let at = 0; at <= Math.min(bytes.length, headerBytes + 3); at++) {
          const frames = parse([bytes.subarray(0, at), bytes.subarray(at)], { expectMasked: masked });
          expect(frames, `cut at ${at}`).toHaveLength(1);
          expect(frames[0].header.length).toBe(length);
          expect(frames[0].ended).toBe(true);
          expect(unmask(frames[0]).equals(data), `cut at ${at}`).toBe(true);
        }
      });
    }
  }

  it('reads three frames from one chunk: binary, a 126-form continuation, a ping', () => {
    const a = Buffer.from('first');
    const b = randomBytes(200);
    const c = Buffer.from('ping!');
    const bytes = Buffer.concat([
      wsFrame(a, { fin: false }),
      wsFrame(b, { opcode: Opcode.Continuation }),
      wsFrame(c, { opcode: Opcode.Ping }),
    ]);
    const frames = parse([bytes]);
    expect(frames.map((f) => [f.header.opcode, f.header.fin, f.header.length, f.ended])).toEqual([
      [Opcode.Binary, false, a.length, true],
      [Opcode.Continuation, true, b.length, true],
      [Opcode.Ping, true, c.length, true],
    ]);
    expect(frames.map((f) => f.payload)).toEqual([a, b, c]);
  });

  for (const masked of [false, true]) {
    it(`reads a stream of ${masked ? 'masked' : 'unmasked'} frames cut at every possible boundary`, () => {
      const payloads = [Buffer.alloc(0), Buffer.from('x'), randomBytes(126), Buffer.alloc(0), randomBytes(3)];
      const bytes = Buffer.concat(payloads.map((p) => wsFrame(p, masked ? { key: KEY } : {})));
      for (const chunks of cutsOf(bytes)) {
        const frames = parse(chunks, { expectMasked: masked });
        expectBuffers(frames.map(unmask), payloads, `cut at ${chunks[0].length}`);
        expect(frames.every((f) => f.ended)).toBe(true);
      }
    });
  }

  it('reads a stream fed one byte at a time', () => {
    const payloads = [Buffer.from('a'), randomBytes(126), Buffer.alloc(0), randomBytes(65536), Buffer.from('end')];
    const bytes = Buffer.concat(payloads.map((p) => wsFrame(p, { key: KEY })));
    const frames = parse(
      [...bytes.subarray(0, 2000)].map((b) => Buffer.from([b])).concat(bytes.subarray(2000)),
      { expectMasked: true },
    );
    expectBuffers(frames.map(unmask), payloads);
  });

  it('reassembles the exact bytes of many frames under random chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 70_000 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 20_000 }), { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        (lengths, sizes, masked) => {
          const payloads = lengths.map((n) => randomBytes(n));
          const bytes = Buffer.concat(payloads.map((p) => wsFrame(p, masked ? { key: randomBytes(4) } : {})));
          const chunks: Buffer[] = [];
          let at = 0;
          for (let i = 0; at < bytes.length; i++) {
            const size = sizes[i % sizes.length];
            chunks.push(bytes.subarray(at, at + size));
            at += size;
          }
          const frames = parse(chunks, { expectMasked: masked });
          expectBuffers(frames.map(unmask), payloads);
          expect(frames.every((f) => f.ended)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('hands over payload as views of the pushed chunks, never copies', () => {
    const bytes = wsFrame(randomBytes(1000));
    const chunks = [bytes.subarray(0, 500), bytes.subarray(500)];
    const [frame] = parse(chunks);
    expect(frame.slices).toHaveLength(2);
    for (const slice of frame.slices) expect(slice.buffer).toBe(bytes.buffer);
  });

  it('hands over a payload that fills the whole chunk as the chunk itself', () => {
    const payload = randomBytes(300);
    const header = encodeHeader({ opcode: Opcode.Binary, length: payload.length, mask: null });
    const [frame] = parse([header, payload]);
    expect(frame.slices).toEqual([payload]);
    expect(frame.slices[0]).toBe(payload);
  });
});

describe('FrameParser: protocol errors', () => {
  function expectError(bytes: Buffer, code: 'WS_PROTOCOL_ERROR' | 'WS_FRAME_TOO_LARGE', message: RegExp, options: Partial<FrameParserOptions> = {}) {
    // Whole, and with the header arriving byte by byte: same error either way.
    for (const chunks of [[bytes], [...bytes].map((b) => Buffer.from([b]))]) {
      const parser = new FrameParser({ maxFrameBytes: 1 << 20, expectMasked: false, ...options });
      const { frames, sink } = recorder();
      const err = catchError(() => {
        for (const chunk of chunks) parser.push(chunk, sink);
      });
      expect(err.code).toBe(code);
      expect(err.closeCode).toBe(code === 'WS_FRAME_TOO_LARGE' ? CloseCode.TooBig : CloseCode.ProtocolError);
      expect(err.message).toMatch(message);
      expect(err.name).toBe('FrameParseError');
      // Nothing of the bad frame reached the sink.
      expect(frames).toEqual([]);
    }
  }

  for (const [bit, name] of [
    [0x40, 'RSV1'],
    [0x20, 'RSV2'],
    [0x10, 'RSV3'],
  ] as const) {
    it(`refuses a frame with ${name} set`, () => {
      const bytes = wsFrame(Buffer.from('hi'));
      bytes[0] |= bit;
      expectError(bytes, 'WS_PROTOCOL_ERROR', /reserved bits/);
    });
  }

  for (const opcode of [0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    it(`refuses unknown opcode ${opcode}`, () => {
      expectError(Buffer.from([0x80 | opcode, 0x00]), 'WS_PROTOCOL_ERROR', new RegExp(`unknown opcode ${opcode}`));
    });
  }

  for (const opcode of [Opcode.Close, Opcode.Ping, Opcode.Pong]) {
    it(`refuses a fragmented control frame (opcode ${opcode})`, () => {
      expectError(wsFrame(Buffer.from('x'), { opcode, fin: false }), 'WS_PROTOCOL_ERROR', /control frame must be whole/);
    });

    it(`refuses a control frame (opcode ${opcode}) of more than 125 bytes, and takes one of 125`, () => {
      expectError(wsFrame(Buffer.alloc(126), { opcode }), 'WS_PROTOCOL_ERROR', /at most 125 bytes/);
      expect(parse([wsFrame(Buffer.alloc(125), { opcode })])[0].header.length).toBe(125);
    });
  }

  it('refuses a masked frame on the client side', () => {
    expectError(wsFrame(Buffer.from('hi'), { key: KEY }), 'WS_PROTOCOL_ERROR', /server frame was masked/, { expectMasked: false });
  });

  it('refuses an unmasked frame on the server side', () => {
    expectError(wsFrame(Buffer.from('hi')), 'WS_PROTOCOL_ERROR', /client frame was not masked/, { expectMasked: true });
  });

  it('refuses a frame over the limit with 1009, and takes one exactly at it', () => {
    for (const [limit, length] of [
      [100, 101],
      [125, 126],
      [65535, 65536],
      [70_000, 70_001],
    ]) {
      expectError(wsFrame(Buffer.alloc(length)), 'WS_FRAME_TOO_LARGE', new RegExp(`${length}-byte frame is above the ${limit}-byte limit`), {
        maxFrameBytes: limit,
      });
      expect(parse([wsFrame(Buffer.alloc(limit))], { maxFrameBytes: limit })[0].header.length).toBe(limit);
    }
  });

  it('refuses a 64-bit length of 2^53 or more as too large', () => {
    for (const high of [0x200000, 0x7fffffff, 0xffffffff]) {
      const bytes = Buffer.alloc(10);
      bytes[0] = 0x82;
      bytes[1] = 127;
      bytes.writeUInt32BE(high, 2);
      expectError(bytes, 'WS_FRAME_TOO_LARGE', /above the/, { maxFrameBytes: Number.MAX_SAFE_INTEGER });
    }
  });

  it('refuses all input after an error, with the same error', () => {
    const parser = new FrameParser({ maxFrameBytes: 100, expectMasked: false });
    const { frames, sink } = recorder();
    parser.push(wsFrame(Buffer.from('ok')), sink);
    const err = catchError(() => parser.push(Buffer.from([0x83, 0x00]), sink));
    expect(catchError(() => parser.push(wsFrame(Buffer.from('fine')), sink))).toBe(err);
    expect(catchError(() => parser.push(Buffer.alloc(0), sink))).toBe(err);
    expect(frames.map((f) => f.payload.toString())).toEqual(['ok']);
  });

  it('delivers the frames before a bad one in the same chunk', () => {
    const bytes = Buffer.concat([wsFrame(Buffer.from('a')), wsFrame(Buffer.from('b')), Buffer.from([0xc2, 0x00])]);
    const parser = new FrameParser({ maxFrameBytes: 100, expectMasked: false });
    const { frames, sink } = recorder();
    expect(catchError(() => parser.push(bytes, sink)).code).toBe('WS_PROTOCOL_ERROR');
    expect(frames.map((f) => [f.payload.toString(), f.ended])).toEqual([
      ['a', true],
      ['b', true],
    ]);
  });
});

describe('encodeHeader', () => {
  const lengths = [0, 1, 125, 126, 127, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER];

  it('round-trips through the parser for every length form, opcode, FIN and mask', () => {
    for (const length of lengths) {
      for (const mask of [null, KEY]) {
        for (const opcode of [Opcode.Continuation, Opcode.Text, Opcode.Binary]) {
          for (const fin of [true, false]) {
            const header = encodeHeader({ opcode, fin, length, mask });
            expect(header.length).toBe(2 + (length < 126 ? 0 : length <= 0xffff ? 2 : 8) + (mask ? 4 : 0));
            const frames = parse([header], { expectMasked: mask !== null, maxFrameBytes: Number.MAX_SAFE_INTEGER });
            expect(frames).toHaveLength(1);
            expect(frames[0].header).toEqual({ fin, opcode, mask, length });
            expect(frames[0].ended).toBe(length === 0);
          }
        }
      }
    }
  });

  it('writes the same header bytes as ws for each length form', () => {
    for (const length of [0, 1, 125, 126, 65535, 65536, 100_000]) {
      const data = Buffer.alloc(length);
      for (const key of [undefined, KEY]) {
        const theirs = wsFrame(data, { key });
        const ours = encodeHeader({ opcode: Opcode.Binary, length, mask: key ?? null });
        expect(ours.equals(theirs.subarray(0, ours.length)), `length ${length}`).toBe(true);
        expect(theirs.length).toBe(ours.length + length);
      }
      const ping = encodeHeader({ opcode: Opcode.Ping, length: Math.min(length, 125), mask: null });
      expect(ping.equals(wsFrame(Buffer.alloc(Math.min(length, 125)), { opcode: Opcode.Ping }).subarray(0, ping.length))).toBe(true);
    }
  });

  it('makes a frame ws reads: our header, our masking', () => {
    const data = randomBytes(70_000);
    const key = Buffer.from([9, 8, 7, 6]);
    const masked = Buffer.alloc(data.length);
    maskInto(data, key, 0, masked, 0);
    const frame = Buffer.concat([encodeHeader({ opcode: Opcode.Binary, length: data.length, mask: key }), masked]);
    expect(frame.equals(wsFrame(data, { key }))).toBe(true);
  });
});
