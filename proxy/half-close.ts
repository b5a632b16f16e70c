import type { BrokerLink } from './ws/link.ts';

/** How long a half-closed client's requests in flight may take to be answered. */
const HALF_CLOSE_WAIT_MS = 30_000;

/**
 * A client's half-close: what the client sent still goes out, and the
 * WebSocket is closed politely once every request in flight has its answer (or
 * after a bounded wait), so a client that writes, shuts down its side and then
 * reads still gets its responses.
 */
export class HalfClose {
  readonly #link: BrokerLink;
  readonly #inFlight: () => number;
  /** Waiting for in-flight answers before closing the WebSocket. */
  #timer: NodeJS.Timeout | null = null;
  #closeRequested = false;

  constructor(link: BrokerLink, inFlight: () => number) {
    this.#link = link;
    this.#inFlight = inFlight;
  }

  /** The client ended its side: closes the WebSocket now, or once the answers are in. */
  closeWhenAnswered(): void {
    if (this.#closeRequested) return;
    if (this.#inFlight() === 0) {
      this.#closeRequested = true;
      this.#link.close(1000, 'client closed');
      return;
    }
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#closeRequested = true;
      this.#link.close(1000, 'client closed');
    }, HALF_CLOSE_WAIT_MS);
    this.#timer.unref();
  }

  /** A response went out: a half-closed client may now be done. */
  answered(): void {
    if (this.#timer && this.#inFlight() === 0) {
      clearTimeout(this.#timer);
      this.#timer = null;
      this.closeWhenAnswered();
    }
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
  }
}
