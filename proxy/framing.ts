import { formatBytes } from '../shared/format.ts';

/**
 * Splits a TCP byte stream into Kafka frames: an int32 big-endian size, then that
 * many bytes. Frames are emitted with their size prefix, because the WebSocket
 * side carries the prefix too (one binary message per frame).
 *
 * A frame that lies inside one chunk is emitted as a slice of that chunk (no
 * copy); a frame spread over several chunks is copied, once, when complete,
 * unless a FrameStream takes it: then a large frame leaves in pieces as they
 * arrive (its head first), and is never gathered at all.
 */

export const SIZE_PREFIX_BYTES = 4;
/** Frames this large may be streamed rather than gathered, both ways (here and in ws/link.ts). */
export const STREAM_FROM_BYTES = 64 * 1024;
/** How much of a streamed frame is gathered first: enough for the Kafka session's peek (header, acks, an error code). */
export const STREAM_HEAD_BYTES = 512;

export type FrameErrorCode = 'FRAME_NEGATIVE_SIZE' | 'FRAME_TOO_LARGE';

export class FrameError extends Error {
  readonly code: FrameErrorCode;
  readonly size: number;
  constructor(code: FrameErrorCode, size: number, message: string) {
    super(message);
    this.name = 'FrameError';
    this.code = code;
    this.size = size;
  }
}

export interface FrameSplitterOptions {
  /** Largest frame body accepted (bytes after the size prefix). */
  maxFrameBytes: number;
  /** Frames this large (prefix included) and not yet whole are offered to the FrameStream; default STREAM_FROM_BYTES. */
  streamFromBytes?: number;
  /** Bytes of a frame gathered before it is offered; default STREAM_HEAD_BYTES. */
  headBytes?: number;
}

/** Takes large frames piece by piece instead of whole (see FrameSplitter.push). */
export interface FrameStream {
  /** A frame of `total` bytes (prefix included) begins with `head` (at least headBytes of it): true takes it as parts. */
  start(head: Buffer, total: number): boolean;
  /** The frame's bytes in order, `head` first; `last` on its final piece. */
  part(bytes: Buffer, last: boolean): void;
}

export class FrameSplitter {
  readonly #maxFrameBytes: number;
  readonly #streamFromBytes: number;
  readonly #headBytes: number;
  /** Bytes still to come of a frame being streamed; 0 when none is. */
  #streamLeft = 0;
  /** Bytes of the streamed frame passed on so far. */
  #streamDone = 0;
  /** The FrameStream declined the frame being collected: do not offer it again. */
  #declined = false;
  /** Chunks of the frame being collected; their total is #pendingBytes. */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Body size of the frame being collected, or -1 while the prefix is incomplete. */
  #expected = -1;
  #failed: FrameError | null = null;

  constructor(options: FrameSplitterOptions) {
    this.#maxFrameBytes = options.maxFrameBytes;
    this.#streamFromBytes = options.streamFromBytes ?? STREAM_FROM_BYTES;
    this.#headBytes = options.headBytes ?? STREAM_HEAD_BYTES;
  }

  /** Bytes received of an incomplete frame (held, or already streamed on). */
  get bufferedBytes(): number {
    return this.#streamLeft > 0 ? this.#streamDone : this.#pendingBytes;
  }

  /** Body size of the incomplete frame, once its prefix has arrived. */
  get expectedBytes(): number {
    return this.#streamLeft > 0 ? this.#streamDone + this.#streamLeft - SIZE_PREFIX_BYTES : this.#expected;
  }

  /**
   * Feeds one chunk; calls `onFrame` for every frame it completes, in order, or
   * hands large incomplete frames to `stream` when it accepts them.
   * Throws a FrameError (and refuses further input) on a negative or oversized size.
   */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void, stream?: FrameStream): void {
    if (this.#failed) throw this.#failed;
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#streamLeft > 0) {
        const take = Math.min(this.#streamLeft, chunk.length - offset);
        this.#streamLeft -= take;
        this.#streamDone += take;
        stream?.part(take === chunk.length ? chunk : chunk.subarray(offset, offset + take), this.#streamLeft === 0);
        offset += take;
        continue;
      }
      if (this.#pendingBytes === 0) {
        // Fast path: whole frames inside this chunk become slices of it.
        const left = chunk.length - offset;
        if (left >= SIZE_PREFIX_BYTES) {
          const size = this.#check(chunk.readInt32BE(offset));
          const total = SIZE_PREFIX_BYTES + size;
          if (left >= total) {
            onFrame(chunk.subarray(offset, offset + total));
            offset += total;
            continue;
          }
          this.#expected = size;
          if (stream && this.#offer(chunk.subarray(offset), total, stream)) return;
        }
        this.#hold(chunk.subarray(offset));
        return;
      }
      offset += this.#continue(chunk, offset, onFrame);
      if (stream && this.#pendingBytes > 0 && this.#expected >= 0 && !this.#declined) {
        const total = SIZE_PREFIX_BYTES + this.#expected;
        if (total >= this.#streamFromBytes && this.#pendingBytes >= Math.min(this.#headBytes, total) && this.#offer(Buffer.concat(this.#pending, this.#pendingBytes), total, stream)) {
          this.#pending = [];
          this.#pendingBytes = 0;
        }
      }
    }
  }

  /** Offers an incomplete frame whose first bytes are `head`; true when the stream took it (and `head`). */
  #offer(head: Buffer, total: number, stream: FrameStream): boolean {
    if (total < this.#streamFromBytes || head.length < Math.min(this.#headBytes, total)) return false;
    if (!stream.start(head, total)) {
      this.#declined = true;
      return false;
    }
    this.#expected = -1;
    this.#streamLeft = total - head.length;
    this.#streamDone = head.length;
    stream.part(head, false);
    return true;
  }

  /** Adds bytes to a frame spread over chunks; returns how many it consumed. */
  #continue(chunk: Buffer, offset: number, onFrame: (frame: Buffer) => void): number {
    if (this.#expected < 0) {
      // Complete the size prefix first (it may itself span chunks).
      const want = SIZE_PREFIX_BYTES - this.#pendingBytes;
      const take = Math.min(want, chunk.length - offset);
      this.#hold(chunk.subarray(offset, offset + take));
      if (this.#pendingBytes < SIZE_PREFIX_BYTES) return take;
      const prefix = this.#pending.length === 1 ? this.#pending[0] : Buffer.concat(this.#pending, SIZE_PREFIX_BYTES);
      this.#pending = [prefix];
      this.#expected = this.#check(prefix.readInt32BE(0));
      if (this.#expected === 0) this.#emit(onFrame);
      return take;
    }
    const want = SIZE_PREFIX_BYTES + this.#expected - this.#pendingBytes;
    const take = Math.min(want, chunk.length - offset);
    this.#hold(chunk.subarray(offset, offset + take));
    if (take === want) this.#emit(onFrame);
    return take;
  }

  #hold(part: Buffer): void {
    this.#pending.push(part);
    this.#pendingBytes += part.length;
  }

  #emit(onFrame: (frame: Buffer) => void): void {
    const frame = this.#pending.length === 1 ? this.#pending[0] : Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#expected = -1;
    this.#declined = false;
    onFrame(frame);
  }

  #check(size: number): number {
    if (size < 0) {
      this.#failed = new FrameError('FRAME_NEGATIVE_SIZE', size, `Client sent a frame with a negative size (${size}); this is not Kafka traffic`);
      throw this.#failed;
    }
    if (size > this.#maxFrameBytes) {
      this.#failed = new FrameError(
        'FRAME_TOO_LARGE',
        size,
        `Client sent a ${formatBytes(size)} frame, above the ${formatBytes(this.#maxFrameBytes)} limit`,
      );
      throw this.#failed;
    }
    return size;
  }
}
