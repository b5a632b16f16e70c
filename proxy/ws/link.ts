import { isUtf8 } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { CloseCode, encodeHeader, FrameParseError, FrameParser, Opcode, type FrameHeader } from './frame-parser.ts';
import { maskInPlace, maskInto, newMaskKey } from './mask.ts';

/**
 * The client end of an open WebSocket, on the socket ws handed over after the
 * handshake (dial.ts). We speak the frames ourselves because ws's API is whole
 * messages: every 1 MiB Kafka frame would be gathered into a fresh buffer on the
 * way in and masked into another on the way out, and those allocations (page
 * faults, then garbage collection) were most of the tunnel's CPU time.
 *
 * Out: a message is one unfragmented binary frame. Its header carries the whole
 * length, so a frame still arriving from the client can be streamed: header
 * first, then each piece masked (in place when the caller owns the bytes) and
 * written as it comes. Control frames wait for the message being written to end,
 * since nothing may interrupt a frame's payload (RFC 6455 §5.4).
 *
 * In: small messages (and fragmented ones) are delivered whole; a large message
 * is offered to `messageStart` with its first bytes, and the listener may take
 * the rest as it arrives ('stream') instead of whole ('collect').
 */

export interface LinkHandlers {
  /** A whole binary message. */
  message(data: Buffer): void;
  /**
   * A binary message of at least `streamFromBytes` is starting; `head` holds its
   * first min(headBytes, length) bytes. 'stream' delivers those and the rest as
   * parts; 'collect' delivers the whole message to `message` later.
   */
  messageStart(head: Buffer, length: number): 'stream' | 'collect';
  /** A piece of a streamed message; `last` on its final piece. */
  messagePart(part: Buffer, last: boolean): void;
  /** The broker sent a text message (Kafka frames are binary). */
  text(): void;
  pong(): void;
  /** The broker broke the protocol or a limit; the link is closing. */
  error(err: { code: 'BROKER_FRAME_TOO_LARGE' | 'BROKER_PROTOCOL_ERROR'; message: string }): void;
  /** Once, when the socket is gone: the broker's close code, or 1006 without a close frame. */
  close(code: number, reason: string): void;
}

export interface LinkOptions {
  /** Largest message accepted (its fragments together). */
  maxMessageBytes: number;
  /** Messages this large or larger may be streamed (see LinkHandlers.messageStart). */
  streamFromBytes: number;
  /** Bytes of a message gathered before messageStart is asked. */
  headBytes: number;
}

/** Frames up to this size are copied into one buffer with their header rather than masked in place. */
const COPY_UP_TO_BYTES = 16 * 1024;

type Incoming =
  | { kind: 'none' }
  | { kind: 'collect'; opcode: number; parts: Buffer[]; bytes: number; length: number; fin: boolean }
  | { kind: 'head'; length: number; parts: Buffer[]; bytes: number }
  | { kind: 'stream'; remaining: number }
  | { kind: 'ignore' };

export class BrokerLink {
  readonly #socket: Duplex;
  readonly #options: LinkOptions;
  readonly #parser: FrameParser;
  #handlers: LinkHandlers | null = null;
  #incoming: Incoming = { kind: 'none' };
  /** The frame being read right now (a control frame inside a fragmented message has its own). */
  #frame: FrameHeader | null = null;
  #controlPayload: Buffer[] = [];
  /** Fragments of a message so far, for the size limit. */
  #messageBytes = 0;

  /** Bytes of the outgoing message still to be written, and its key and position. */
  #outRemaining = 0;
  #outKey: Buffer = Buffer.alloc(4);
  #outPosition = 0;
  /** Frames that must wait for the outgoing message to end. */
  #deferred: Buffer[] = [];

  #closeSent = false;
  #closeReceived: { code: number; reason: string } | null = null;
  #closed = false;

  constructor(socket: Duplex, options: LinkOptions) {
    this.#socket = socket;
    this.#options = options;
    this.#parser = new FrameParser({ maxFrameBytes: options.maxMessageBytes, expectMasked: false });
    socket.on('data', this.#onData);
    socket.on('end', () => socket.end());
    // The close that follows says what happened; an error alone needs no answer.
    socket.on('error', () => {});
    socket.on('close', this.#onClose);
    // Nothing reads until someone listens (dial.ts pauses the socket at the handshake).
    socket.pause();
  }

  /** Starts delivery to `handlers` (bytes that arrived before now were kept). */
  attach(handlers: LinkHandlers): void {
    this.#handlers = handlers;
    // A reset is noticed even while paused; its close is reported now, not lost.
    if (this.#closed) this.#reportClose();
    else this.#socket.resume();
  }

  /** Bytes written but not yet taken by the kernel. */
  get bufferedBytes(): number {
    return this.#socket.writableLength;
  }

  get open(): boolean {
    return !this.#closeSent && !this.#closed;
  }

  /** Fires once when the written backlog has gone; see bufferedBytes. */
  onceDrained(callback: () => void): void {
    this.#socket.once('drain', callback);
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    if (!this.#closed) this.#socket.resume();
  }

  cork(): void {
    this.#socket.cork();
  }

  uncork(): void {
    this.#socket.uncork();
  }

  // ---- out ----

  /** One whole binary message. `owned`: the bytes are ours to mask in place. */
  send(data: Buffer, owned: boolean): void {
    if (!this.open) return;
    if (this.#outRemaining > 0) {
      this.#deferred.push(maskedFrame(Opcode.Binary, data));
      return;
    }
    // Small frames: header and payload in one buffer (one entry in the batched write).
    if (!owned || data.length <= COPY_UP_TO_BYTES) {
      this.#socket.write(maskedFrame(Opcode.Binary, data));
      return;
    }
    this.begin(data.length);
    this.part(data, owned);
  }

  /** Whether a message is part-way written (pings wait for it to end). */
  get writingMessage(): boolean {
    return this.#outRemaining > 0;
  }

  /** Starts a binary message of `length` bytes; `part` supplies them. */
  begin(length: number): void {
    if (!this.open) return;
    if (this.#outRemaining > 0) throw new Error(`a message still has ${this.#outRemaining} bytes to write`);
    this.#outKey = newMaskKey();
    this.#outPosition = 0;
    this.#outRemaining = length;
    this.#socket.write(encodeHeader({ opcode: Opcode.Binary, length, mask: this.#outKey }));
    if (length === 0) this.#flushDeferred();
  }

  /** The next bytes of the message begun; `owned`: ours to mask in place, else copied. */
  part(bytes: Buffer, owned: boolean): void {
    if (!this.open || bytes.length === 0) return;
    if (bytes.length > this.#outRemaining) throw new RangeError(`part of ${bytes.length} bytes exceeds the ${this.#outRemaining} the message has left`);
    let out = bytes;
    if (owned) maskInPlace(bytes, this.#outKey, this.#outPosition);
    else {
      out = Buffer.allocUnsafe(bytes.length);
      maskInto(bytes, this.#outKey, this.#outPosition, out, 0);
    }
    this.#outPosition += bytes.length;
    this.#outRemaining -= bytes.length;
    this.#socket.write(out);
    if (this.#outRemaining === 0) this.#flushDeferred();
  }

  ping(): void {
    if (this.open) this.#sendControl(maskedFrame(Opcode.Ping, Buffer.alloc(0)));
  }

  /** Starts the closing handshake; the broker's close frame (or a timeout by the caller) ends it. */
  close(code: number, reason: string): void {
    if (this.#closeSent || this.#closed) return;
    if (this.#outRemaining > 0) {
      // A message cut short cannot be finished with a close frame inside it.
      this.terminate();
      return;
    }
    this.#closeSent = true;
    this.#socket.write(maskedFrame(Opcode.Close, closePayload(code, reason)));
    if (this.#closeReceived) this.#socket.end();
  }

  terminate(): void {
    this.#socket.destroy();
  }

  #sendControl(frame: Buffer): void {
    if (this.#outRemaining > 0) this.#deferred.push(frame);
    else this.#socket.write(frame);
  }

  #flushDeferred(): void {
    const frames = this.#deferred;
    if (frames.length === 0) return;
    this.#deferred = [];
    for (const frame of frames) this.#socket.write(frame);
  }

  // ---- in ----

  #onData = (chunk: Buffer): void => {
    if (this.#closed || this.#closeReceived) return;
    try {
      this.#parser.push(chunk, this.#sink);
    } catch (err) {
      if (!(err instanceof FrameParseError)) throw err;
      // Junk after the broker's close frame changes nothing: the closing handshake is under way.
      if (this.#closeReceived) return;
      this.#protocolError(err.code === 'WS_FRAME_TOO_LARGE' ? 'BROKER_FRAME_TOO_LARGE' : 'BROKER_PROTOCOL_ERROR', err.message, err.closeCode);
    }
  };

  /** Once the broker's close frame is read, what follows it in the same chunk is ignored (RFC 6455 §5.5.1). */
  #sink = {
    header: (header: FrameHeader): void => {
      if (this.#closeReceived) return;
      this.#frame = header;
      if (header.opcode >= Opcode.Close) {
        this.#controlPayload = [];
        return;
      }
      this.#dataHeader(header);
    },
    payload: (bytes: Buffer): void => {
      if (this.#closeReceived) return;
      if (this.#frame && this.#frame.opcode >= Opcode.Close) this.#controlPayload.push(bytes);
      else this.#dataPayload(bytes);
    },
    end: (): void => {
      if (this.#closeReceived) return;
      const frame = this.#frame;
      this.#frame = null;
      if (frame && frame.opcode >= Opcode.Close) this.#controlFrame(frame.opcode, Buffer.concat(this.#controlPayload));
      else if (frame) this.#dataEnd(frame);
    },
  };

  #dataHeader(header: FrameHeader): void {
    const incoming = this.#incoming;
    if (header.opcode === Opcode.Continuation) {
      if (incoming.kind !== 'collect' && incoming.kind !== 'ignore') throw this.#violation('a continuation frame with no message to continue');
    } else if (incoming.kind !== 'none') {
      throw this.#violation('a new message began before the previous one ended');
    }
    this.#messageBytes = header.opcode === Opcode.Continuation ? this.#messageBytes + header.length : header.length;
    if (this.#messageBytes > this.#options.maxMessageBytes) {
      throw new FrameParseError('WS_FRAME_TOO_LARGE', `a message of more than ${this.#options.maxMessageBytes} bytes is above the limit`);
    }
    if (header.opcode === Opcode.Text) {
      this.#incoming = { kind: 'ignore' };
      this.#handlers?.text();
      return;
    }
    if (incoming.kind === 'collect') {
      incoming.fin = header.fin;
      incoming.length = header.length;
      return;
    }
    if (incoming.kind === 'ignore') return;
    if (header.fin && header.length > 0 && header.length >= this.#options.streamFromBytes) {
      this.#incoming = { kind: 'head', length: header.length, parts: [], bytes: 0 };
      return;
    }
    this.#incoming = { kind: 'collect', opcode: header.opcode, parts: [], bytes: 0, length: header.length, fin: header.fin };
  }

  #dataPayload(bytes: Buffer): void {
    const incoming = this.#incoming;
    switch (incoming.kind) {
      case 'collect':
        incoming.parts.push(bytes);
        incoming.bytes += bytes.length;
        return;
      case 'stream':
        incoming.remaining -= bytes.length;
        this.#handlers?.messagePart(bytes, incoming.remaining === 0);
        return;
      case 'head': {
        incoming.parts.push(bytes);
        incoming.bytes += bytes.length;
        const want = Math.min(this.#options.headBytes, incoming.length);
        if (incoming.bytes < want) return;
        const head = incoming.parts.length === 1 ? incoming.parts[0] : Buffer.concat(incoming.parts);
        const choice = this.#handlers?.messageStart(head.subarray(0, want), incoming.length) ?? 'collect';
        if (choice === 'collect') {
          this.#incoming = { kind: 'collect', opcode: Opcode.Binary, parts: [head], bytes: head.length, length: incoming.length, fin: true };
          return;
        }
        const remaining = incoming.length - head.length;
        this.#incoming = { kind: 'stream', remaining };
        this.#handlers?.messagePart(head, remaining === 0);
        return;
      }
      default:
        return;
    }
  }

  #dataEnd(header: FrameHeader): void {
    const incoming = this.#incoming;
    if (!header.fin) return;
    this.#incoming = { kind: 'none' };
    if (incoming.kind !== 'collect') return;
    const data = incoming.parts.length === 1 ? incoming.parts[0] : Buffer.concat(incoming.parts, incoming.bytes);
    this.#handlers?.message(data);
  }

  #controlFrame(opcode: number, payload: Buffer): void {
    if (opcode === Opcode.Ping) {
      if (this.open) this.#sendControl(maskedFrame(Opcode.Pong, payload));
      return;
    }
    if (opcode === Opcode.Pong) {
      this.#handlers?.pong();
      return;
    }
    // Close: read the code and reason (checked as RFC 6455 §5.5.1 and §7.4 ask), answer
    // unless we started the handshake, then end our side.
    if (payload.length === 1) throw this.#violation('a close frame with a one-byte payload');
    const code = payload.length >= 2 ? payload.readUInt16BE(0) : CloseCode.NoStatus;
    if (payload.length >= 2 && !isSendableCloseCode(code)) throw this.#violation(`close code ${code} may not be sent`);
    if (!isUtf8(payload.subarray(2))) throw this.#violation('a close reason that is not UTF-8');
    const reason = payload.length > 2 ? payload.subarray(2).toString('utf8') : '';
    this.#closeReceived = { code, reason };
    if (!this.#closeSent) this.close(code === CloseCode.NoStatus ? CloseCode.Normal : code, '');
    if (this.#closeSent) this.#socket.end();
  }

  #violation(message: string): FrameParseError {
    return new FrameParseError('WS_PROTOCOL_ERROR', `WebSocket protocol error: ${message}`);
  }

  #protocolError(code: 'BROKER_FRAME_TOO_LARGE' | 'BROKER_PROTOCOL_ERROR', message: string, closeCode: number): void {
    this.#closeReceived = { code: closeCode, reason: '' };
    this.#handlers?.error({ code, message });
    this.close(closeCode, '');
    this.#socket.end();
  }

  #onClose = (): void => {
    if (this.#closed) return;
    this.#closed = true;
    this.#reportClose();
  };

  #reportClose(): void {
    const received = this.#closeReceived;
    this.#handlers?.close(received?.code ?? CloseCode.Abnormal, received?.reason ?? '');
  }
}

/** A control frame carries at most 125 bytes: the 2-byte code, then the reason. */
const MAX_CLOSE_REASON_BYTES = 123;

/** A whole masked frame in one buffer (small frames and control frames). */
function maskedFrame(opcode: number, payload: Buffer): Buffer {
  const key = newMaskKey();
  const header = encodeHeader({ opcode, length: payload.length, mask: key });
  const frame = Buffer.allocUnsafe(header.length + payload.length);
  header.copy(frame, 0);
  maskInto(payload, key, 0, frame, header.length);
  return frame;
}

/** Codes a close frame may carry (RFC 6455 §7.4.1-2): 1004 is reserved, and 1005, 1006 and 1015 only name what happened, never travel. */
function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

function closePayload(code: number, reason: string): Buffer {
  let text = Buffer.from(reason, 'utf8');
  if (text.length > MAX_CLOSE_REASON_BYTES) {
    // Cut before a character, not inside one: the broker rejects a reason that is not UTF-8.
    let end = MAX_CLOSE_REASON_BYTES;
    while (end > 0 && (text[end] & 0xc0) === 0x80) end--;
    text = text.subarray(0, end);
  }
  const payload = Buffer.allocUnsafe(2 + text.length);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2);
  return payload;
}
