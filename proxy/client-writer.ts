import type { ClientStream } from './bridge-contract.ts';
import type { Counter } from './traffic.ts';
import type { BrokerLink } from './ws/link.ts';

export interface ClientWriterOptions {
  client: ClientStream;
  /** Counted once per whole frame written: the connection's counter and the tunnel's. */
  counters: readonly Counter[];
  /** True once the connection is closed: nothing more is written. */
  closed(): boolean;
  /** The broker side, paused while the client's buffer is full; null until it is connected. */
  broker(): BrokerLink | null;
}

/**
 * Everything the Bridge writes to the client, in order: whole frames (responses,
 * the session's local answers) and the parts of a response being streamed.
 * A whole frame written while a response streams waits behind it: the client's
 * byte stream cannot take it in the middle of another frame.
 */
export class ClientWriter {
  readonly #options: ClientWriterOptions;
  readonly #client: ClientStream;
  #corked = false;
  #brokerPaused = false;
  /** Length of the response being streamed, or -1; whole frames wait in #queue meanwhile. */
  #streaming = -1;
  #queue: Buffer[] = [];

  constructor(options: ClientWriterOptions) {
    this.#options = options;
    this.#client = options.client;
  }

  /** Writes a whole frame now, or after the response being streamed. */
  frame(frame: Buffer): void {
    if (this.#options.closed() || this.#client.destroyed) return;
    if (this.#streaming >= 0) {
      this.#queue.push(frame);
      return;
    }
    this.#count(frame.length);
    this.#write(frame);
  }

  /** A response of `length` bytes follows in parts (streamPart). */
  startStream(length: number): void {
    this.#streaming = length;
  }

  streamPart(part: Buffer, last: boolean): void {
    this.#write(part);
    if (!last) return;
    const length = this.#streaming;
    this.#streaming = -1;
    this.#count(length);
    // What the session wrote meanwhile (local answers) follows the response it waited behind.
    const queued = this.#queue;
    this.#queue = [];
    for (const frame of queued) this.frame(frame);
  }

  #count(bytes: number): void {
    for (const counter of this.#options.counters) counter.add(bytes);
  }

  #write(bytes: Buffer): void {
    if (this.#options.closed() || this.#client.destroyed) return;
    // Responses that arrive in one tick (ws parses many messages per read) go out in one write.
    if (!this.#corked) {
      this.#corked = true;
      this.#client.cork();
      process.nextTick(this.#uncork);
    }
    const link = this.#options.broker();
    if (!this.#client.write(bytes) && !this.#brokerPaused && link) {
      this.#brokerPaused = true;
      link.pause();
      this.#client.once('drain', () => {
        this.#brokerPaused = false;
        if (!this.#options.closed()) link.resume();
      });
    }
  }

  #uncork = (): void => {
    this.#corked = false;
    this.#client.uncork();
  };
}
