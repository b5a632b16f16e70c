import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { encodeHeader, FrameParseError, FrameParser, Opcode, type FrameHeader, type FrameSink } from '../../proxy/ws/frame-parser.ts';
import { maskInto } from '../../proxy/ws/mask.ts';
import { acceptFor } from '../../proxy/ws/handshake.ts';
import { HEAD_BYTES } from './frames.ts';

/**
 * The server end of a WebSocket, only as much of it as the benchmark's broker
 * needs: the opening handshake (RFC 6455 §4.2), then frames read with the
 * engine's streaming parser. Of each binary message only the first HEAD_BYTES
 * are unmasked (§5.3) and kept; the rest is skipped where it lies in the
 * socket's chunks, the way FrameScanner skips a frame's body on plain TCP.
 * Answers go out as unmasked server frames. Pings are answered, a close is
 * echoed; text messages are not Kafka frames and are ignored.
 */

/** The GUID §1.3 appends to the client's key to prove the server speaks WebSocket. */
/** A key is 16 random bytes in base64 (§4.1), so 22 characters and "==". */
const KEY_PATTERN = /^[+/0-9A-Za-z]{22}==$/;

/**
 * Answers an HTTP upgrade request on `socket`: 101 when it is a WebSocket
 * version 13 handshake with a well-formed key (true), else 400 and the socket
 * is ended (false).
 */
export function completeUpgrade(req: IncomingMessage, socket: Socket): boolean {
  const key = req.headers['sec-websocket-key'];
  const valid =
    req.method === 'GET' &&
    req.headers.upgrade?.toLowerCase() === 'websocket' &&
    req.headers['sec-websocket-version'] === '13' &&
    typeof key === 'string' &&
    KEY_PATTERN.test(key);
  if (!valid) {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n');
    return false;
  }
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`);
  return true;
}

export interface ServerWebSocketOptions {
  maxFrameBytes: number;
  /** A whole binary message: its first bytes, unmasked (a view valid only during the call), and its size. */
  onMessage: (head: Buffer, messageBytes: number) => void;
}

/** One upgraded connection; the socket must have completed the handshake (completeUpgrade). */
export class ServerWebSocket {
  readonly #socket: Socket;
  readonly #onMessage: ServerWebSocketOptions['onMessage'];
  readonly #parser: FrameParser;
  /** The frame being read. */
  #frame: FrameHeader | null = null;
  /** Payload bytes of that frame seen so far: where the next slice starts, for unmasking. */
  #position = 0;
  /** A data message is in progress (a frame without FIN came; continuations follow). */
  #inMessage = false;
  #binary = false;
  #messageBytes = 0;
  readonly #head = Buffer.alloc(HEAD_BYTES);
  #headLength = 0;
  /** A control frame's payload (at most 125 bytes), still masked. */
  #control: Buffer[] = [];
  #closing = false;

  /** `head` holds bytes the HTTP server read past the upgrade request; they are the first frames. */
  constructor(socket: Socket, head: Buffer, options: ServerWebSocketOptions) {
    this.#socket = socket;
    this.#onMessage = options.onMessage;
    this.#parser = new FrameParser({ maxFrameBytes: options.maxFrameBytes, expectMasked: true });
    if (head.length > 0) socket.unshift(head);
    socket.on('data', this.#onData);
    // The HTTP server keeps a half-closed socket open; a peer gone without a close frame ends ours too.
    socket.on('end', () => socket.end());
  }

  /**
   * Sends one binary message. Header and payload leave in one write (corked),
   * and the payload is not copied; `written` runs once the socket is done with it.
   * No bound here: the load generator keeps a fixed number of requests in
   * flight, so answers in flight are bounded by that, as on the TCP side.
   */
  send(payload: Buffer, written: () => void): void {
    this.#socket.cork();
    this.#socket.write(encodeHeader({ opcode: Opcode.Binary, length: payload.length, mask: null }));
    this.#socket.write(payload, written);
    this.#socket.uncork();
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  #onData = (chunk: Buffer): void => {
    if (this.#closing) return;
    try {
      this.#parser.push(chunk, this.#sink);
    } catch (err) {
      if (!(err instanceof FrameParseError)) throw err;
      this.#close(closePayload(err.closeCode));
    }
  };

  readonly #sink: FrameSink = {
    header: (header) => {
      if (this.#closing) return;
      this.#frame = header;
      this.#position = 0;
      if (header.opcode >= Opcode.Close) return;
      if (header.opcode === Opcode.Continuation) {
        if (!this.#inMessage) throw new FrameParseError('WS_PROTOCOL_ERROR', 'WebSocket protocol error: a continuation frame without a message to continue');
        return;
      }
      if (this.#inMessage) throw new FrameParseError('WS_PROTOCOL_ERROR', 'WebSocket protocol error: a new message began before the last one finished');
      this.#inMessage = true;
      this.#binary = header.opcode === Opcode.Binary;
      this.#messageBytes = 0;
      this.#headLength = 0;
    },
    payload: (bytes) => {
      if (this.#closing) return;
      const frame = this.#frame!;
      if (frame.opcode >= Opcode.Close) {
        this.#control.push(bytes);
      } else {
        // Only the head is unmasked; the rest of the payload is never touched.
        const wanted = Math.min(HEAD_BYTES - this.#headLength, bytes.length);
        if (wanted > 0) {
          maskInto(bytes.subarray(0, wanted), frame.mask!, this.#position, this.#head, this.#headLength);
          this.#headLength += wanted;
        }
        this.#messageBytes += bytes.length;
      }
      this.#position += bytes.length;
    },
    end: () => {
      const frame = this.#frame!;
      this.#frame = null;
      if (this.#closing) return;
      if (frame.opcode >= Opcode.Close) {
        const payload = Buffer.concat(this.#control);
        this.#control = [];
        maskInto(payload, frame.mask!, 0, payload, 0);
        this.#controlFrame(frame.opcode, payload);
        return;
      }
      if (!frame.fin) return;
      this.#inMessage = false;
      if (this.#binary) this.#onMessage(this.#head.subarray(0, this.#headLength), this.#messageBytes);
    },
  };

  #controlFrame(opcode: number, payload: Buffer): void {
    if (opcode === Opcode.Ping) {
      this.#socket.write(Buffer.concat([encodeHeader({ opcode: Opcode.Pong, length: payload.length, mask: null }), payload]));
    } else if (opcode === Opcode.Close) {
      // Echo the status code (§5.5.1); a close without one is answered without one.
      this.#close(payload.subarray(0, 2));
    }
  }

  /** Sends a close frame, ends our side and reads nothing more. */
  #close(payload: Buffer): void {
    this.#closing = true;
    this.#socket.end(Buffer.concat([encodeHeader({ opcode: Opcode.Close, length: payload.length, mask: null }), payload]));
  }
}

function closePayload(code: number): Buffer {
  const payload = Buffer.alloc(2);
  payload.writeUInt16BE(code);
  return payload;
}
