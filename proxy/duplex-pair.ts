import { Duplex } from 'node:stream';

/**
 * Two connected in-memory Duplex streams: what one writes, the other reads. Lets
 * the library hand a caller a socket-like stream while the Bridge, unchanged,
 * serves the other end exactly as it serves a TCP client. Buffers pass by
 * reference (no copy), and backpressure holds: a write completes only once the
 * other side has room to read it.
 */
export function createDuplexPair(): [Duplex, Duplex] {
  let a: PairEnd;
  let b: PairEnd;
  a = new PairEnd(() => b);
  b = new PairEnd(() => a);
  return [a, b];
}

class PairEnd extends Duplex {
  readonly #peer: () => PairEnd;
  /** A write waiting for the peer to read (its callback runs on the peer's _read). */
  #blocked: (() => void) | null = null;

  constructor(peer: () => PairEnd) {
    super({ allowHalfOpen: true });
    this.#peer = peer;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const peer = this.#peer();
    if (peer.destroyed) {
      callback(Object.assign(new Error('The other end is closed'), { code: 'EPIPE' }));
      return;
    }
    // Delivered on a later tick, as a socket would: a caller that writes a
    // request and then marks it sent (KafkaJS does) must not see the answer
    // arrive inside its own write() call.
    process.nextTick(() => {
      if (peer.destroyed || peer.push(chunk)) callback();
      else this.#blocked = () => callback();
    });
  }

  override _final(callback: (error?: Error | null) => void): void {
    process.nextTick(() => {
      this.#peer().push(null);
      callback();
    });
  }

  override _read(): void {
    const peer = this.#peer();
    const release = peer.#blocked;
    peer.#blocked = null;
    release?.();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const peer = this.#peer();
    const release = this.#blocked;
    this.#blocked = null;
    release?.();
    if (!peer.destroyed) peer.destroy();
    callback(error);
  }
}
