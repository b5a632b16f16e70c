import { formatBytes } from '../shared/format.ts';

/**
 * Splits a TCP byte stream into Kafka frames: an int32 big-endian size, then that
 * many bytes. Frames are emitted with their size prefix, because the WebSocket
 * side carries the prefix too (one binary message per frame).
 *
 * A frame that lies inside one chunk is emitted as a slice of that chunk (no
 * copy); only a frame spread over several chunks is copied, once, when complete.
 */

export const SIZE_PREFIX_BYTES = 4;

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
}

export class FrameSplitter {
  readonly #maxFrameBytes: number;
  /** Chunks of the frame being collected; their total is #pendingBytes. */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Body size of the frame being collected, or -1 while the prefix is incomplete. */
  #expected = -1;
  #failed: FrameError | null = null;

  constructor(options: FrameSplitterOptions) {
    this.#maxFrameBytes = options.maxFrameBytes;
  }

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.#pendingBytes;
  }

  /** Body size of the incomplete frame, once its prefix has arrived. */
  get expectedBytes(): number {
    return this.#expected;
  }

  /**
   * Feeds one chunk; calls `onFrame` for every frame it completes, in order.
   * Throws a FrameError (and refuses further input) on a negative or oversized size.
   */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    if (this.#failed) throw this.#failed;
    let offset = 0;
    while (offset < chunk.length) {
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
        }
        this.#hold(chunk.subarray(offset));
        return;
      }
      offset += this.#continue(chunk, offset, onFrame);
    }
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
