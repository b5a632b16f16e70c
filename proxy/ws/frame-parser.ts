/**
 * A streaming reader of WebSocket frames (RFC 6455 §5.2) that never gathers a
 * payload: it reports each frame's header, then the payload as slices of the
 * chunks it was given, then the frame's end. Whoever listens decides what to
 * keep. This is what lets a 1 MiB Kafka response go from the broker's socket to
 * the client's without being copied into one buffer first.
 *
 *   byte 0: FIN, RSV1-3, opcode (4 bits)
 *   byte 1: MASK, payload length (7 bits: 0-125, or 126 / 127 for the next 2 / 8 bytes)
 *   then the extended length (big-endian), then the 4-byte masking key when MASK is set
 */

export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

/** Close codes we send or interpret (RFC 6455 §7.4.1). */
export const CloseCode = {
  Normal: 1000,
  ProtocolError: 1002,
  NoStatus: 1005,
  Abnormal: 1006,
  TooBig: 1009,
} as const;

export interface FrameHeader {
  fin: boolean;
  opcode: number;
  /** The masking key of a masked frame (client to server), else null. */
  mask: Buffer | null;
  /** Payload bytes that follow. */
  length: number;
}

export interface FrameSink {
  header(header: FrameHeader): void;
  /** Payload bytes, still masked if the frame is; a slice of the pushed chunk. */
  payload(bytes: Buffer): void;
  /** The payload of the frame last announced is complete. */
  end(): void;
}

export type FrameParseErrorCode = 'WS_PROTOCOL_ERROR' | 'WS_FRAME_TOO_LARGE';

export class FrameParseError extends Error {
  readonly code: FrameParseErrorCode;
  /** The close code to answer with. */
  readonly closeCode: number;
  constructor(code: FrameParseErrorCode, message: string) {
    super(message);
    this.name = 'FrameParseError';
    this.code = code;
    this.closeCode = code === 'WS_FRAME_TOO_LARGE' ? CloseCode.TooBig : CloseCode.ProtocolError;
  }
}

export interface FrameParserOptions {
  /** Largest payload of one frame accepted. */
  maxFrameBytes: number;
  /** True on the server side: every frame must be masked. False on the client side: none may be. */
  expectMasked: boolean;
}

const MAX_HEADER_BYTES = 14;
const KNOWN_OPCODES = new Set<number>(Object.values(Opcode));

export class FrameParser {
  readonly #options: FrameParserOptions;
  /** Header bytes gathered so far, when a header spans chunks. */
  readonly #head = Buffer.allocUnsafe(MAX_HEADER_BYTES);
  #headBytes = 0;
  /** Payload bytes still to come for the current frame; -1 between frames. */
  #remaining = -1;
  #failed: FrameParseError | null = null;

  constructor(options: FrameParserOptions) {
    this.#options = options;
  }

  /** Feeds one chunk. Throws a FrameParseError (and refuses further input) on a protocol violation. */
  push(chunk: Buffer, sink: FrameSink): void {
    if (this.#failed) throw this.#failed;
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#remaining < 0) {
        offset = this.#readHeader(chunk, offset, sink);
        continue;
      }
      const take = Math.min(this.#remaining, chunk.length - offset);
      this.#remaining -= take;
      sink.payload(take === chunk.length ? chunk : chunk.subarray(offset, offset + take));
      offset += take;
      if (this.#remaining === 0) this.#endFrame(sink);
    }
  }

  /** Consumes header bytes from `chunk`; once the header is whole, announces it. Returns the new offset. */
  #readHeader(chunk: Buffer, offset: number, sink: FrameSink): number {
    // Common case: the whole header lies in this chunk and nothing is gathered.
    let source = chunk;
    let start = offset;
    if (this.#headBytes > 0 || chunk.length - offset < MAX_HEADER_BYTES) {
      const need = this.#headBytes < 2 ? 2 : headerLength(this.#head);
      const take = Math.min(need - this.#headBytes, chunk.length - offset);
      chunk.copy(this.#head, this.#headBytes, offset, offset + take);
      this.#headBytes += take;
      offset += take;
      if (this.#headBytes < 2) return offset;
      const full = headerLength(this.#head);
      if (this.#headBytes < full) {
        // The length byte just arrived and says the header is longer: take more.
        const more = Math.min(full - this.#headBytes, chunk.length - offset);
        chunk.copy(this.#head, this.#headBytes, offset, offset + more);
        this.#headBytes += more;
        offset += more;
        if (this.#headBytes < full) return offset;
      }
      source = this.#head;
      start = 0;
      this.#headBytes = 0;
    } else {
      offset += headerLength(chunk, offset);
    }
    const header = this.#decode(source, start);
    this.#remaining = header.length;
    sink.header(header);
    if (header.length === 0) this.#endFrame(sink);
    return offset;
  }

  #decode(b: Buffer, at: number): FrameHeader {
    const first = b[at];
    const second = b[at + 1];
    const fin = (first & 0x80) !== 0;
    const opcode = first & 0x0f;
    const masked = (second & 0x80) !== 0;
    let length = second & 0x7f;
    let p = at + 2;
    if (length === 126) {
      length = b.readUInt16BE(p);
      p += 2;
    } else if (length === 127) {
      const high = b.readUInt32BE(p);
      const low = b.readUInt32BE(p + 4);
      // 2^53 and beyond cannot be a real payload; anything over the limit is refused below anyway.
      length = high > 0x1fffff ? Number.POSITIVE_INFINITY : high * 2 ** 32 + low;
      p += 8;
    }
    if ((first & 0x70) !== 0) this.#fail('WS_PROTOCOL_ERROR', 'reserved bits set without a negotiated extension');
    if (!KNOWN_OPCODES.has(opcode)) this.#fail('WS_PROTOCOL_ERROR', `unknown opcode ${opcode}`);
    if (opcode >= Opcode.Close && (!fin || length > 125)) this.#fail('WS_PROTOCOL_ERROR', 'a control frame must be whole and at most 125 bytes');
    if (masked !== this.#options.expectMasked) {
      this.#fail('WS_PROTOCOL_ERROR', this.#options.expectMasked ? 'a client frame was not masked' : 'a server frame was masked');
    }
    if (length > this.#options.maxFrameBytes) this.#fail('WS_FRAME_TOO_LARGE', `a ${length}-byte frame is above the ${this.#options.maxFrameBytes}-byte limit`);
    // Copied: a key that points into a reused header buffer would change under the listener.
    const mask = masked ? Buffer.from(b.subarray(p, p + 4)) : null;
    return { fin, opcode, mask, length };
  }

  #endFrame(sink: FrameSink): void {
    this.#remaining = -1;
    sink.end();
  }

  #fail(code: FrameParseErrorCode, message: string): never {
    this.#failed = new FrameParseError(code, `WebSocket protocol error: ${message}`);
    throw this.#failed;
  }
}

/** Header size implied by its first two bytes (at `at`). */
function headerLength(b: Buffer, at = 0): number {
  const len = b[at + 1] & 0x7f;
  const mask = (b[at + 1] & 0x80) !== 0 ? 4 : 0;
  return 2 + (len === 126 ? 2 : len === 127 ? 8 : 0) + mask;
}

/** The header of one frame, to be followed by `length` payload bytes. */
export function encodeHeader(options: { opcode: number; fin?: boolean; length: number; mask: Buffer | null }): Buffer {
  const { opcode, length, mask } = options;
  const extended = length < 126 ? 0 : length <= 0xffff ? 2 : 8;
  const header = Buffer.allocUnsafe(2 + extended + (mask ? 4 : 0));
  header[0] = (options.fin === false ? 0 : 0x80) | opcode;
  const lengthBits = extended === 0 ? length : extended === 2 ? 126 : 127;
  header[1] = (mask ? 0x80 : 0) | lengthBits;
  if (extended === 2) header.writeUInt16BE(length, 2);
  else if (extended === 8) {
    header.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    header.writeUInt32BE(length >>> 0, 6);
  }
  if (mask) mask.copy(header, 2 + extended);
  return header;
}
