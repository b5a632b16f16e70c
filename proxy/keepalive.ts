import type { BrokerLink } from './ws/link.ts';

export interface KeepaliveOptions {
  intervalMs: number;
  /** The broker showed no sign of life for a whole interval after a ping. */
  onTimeout(): void;
}

/**
 * Pings the broker every interval. Anything heard from it (a pong, a message)
 * counts as an answer, so a busy connection is never closed for a late pong.
 */
export class Keepalive {
  readonly #timer: NodeJS.Timeout;
  #alive = true;

  constructor(link: BrokerLink, options: KeepaliveOptions) {
    this.#timer = setInterval(() => {
      // A ping cannot interrupt a request being streamed. If the broker takes its bytes as fast
      // as they come (nothing backed up), the wait is the client's: skip this round.
      if (link.writingMessage && link.bufferedBytes === 0) {
        this.#alive = true;
        return;
      }
      if (!this.#alive) {
        options.onTimeout();
        return;
      }
      this.#alive = false;
      link.ping();
    }, options.intervalMs);
    this.#timer.unref();
  }

  /** The broker sent something: it is alive. */
  heard(): void {
    this.#alive = true;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
