import type { DirectionStats } from '../shared/stats.ts';

/** Bytes and frames one way. Plain fields: this is on the per-frame path. */
export class Counter {
  bytes = 0;
  frames = 0;

  add(bytes: number): void {
    this.bytes += bytes;
    this.frames += 1;
  }
}

/**
 * Rates over the last sampling window. `sample()` is called on a timer (≈1 s);
 * reading a snapshot never resets anything, so any number of readers agree.
 */
export class RateMeter {
  readonly #counter: Counter;
  #lastTime: number;
  #lastBytes: number;
  #lastFrames: number;
  #bytesPerSec = 0;
  #framesPerSec = 0;

  constructor(counter: Counter, now = Date.now()) {
    this.#counter = counter;
    this.#lastTime = now;
    this.#lastBytes = counter.bytes;
    this.#lastFrames = counter.frames;
  }

  sample(now = Date.now()): void {
    const seconds = (now - this.#lastTime) / 1000;
    if (seconds <= 0) return;
    this.#bytesPerSec = (this.#counter.bytes - this.#lastBytes) / seconds;
    this.#framesPerSec = (this.#counter.frames - this.#lastFrames) / seconds;
    this.#lastTime = now;
    this.#lastBytes = this.#counter.bytes;
    this.#lastFrames = this.#counter.frames;
  }

  stats(): DirectionStats {
    return {
      bytes: this.#counter.bytes,
      frames: this.#counter.frames,
      bytesPerSec: Math.round(this.#bytesPerSec),
      framesPerSec: Math.round(this.#framesPerSec * 10) / 10,
    };
  }
}
