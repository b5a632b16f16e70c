import { THROUGHPUT_HISTORY_SECONDS, throughputSample, type ThroughputSample, type TunnelSnapshot } from '../../shared/stats.ts';
import type { TunnelManager } from '../manager.ts';

/**
 * The last five minutes of rates per tunnel, kept in the host so a dashboard that
 * opens late (Electron reopening its window from the tray, a reloaded browser tab)
 * draws them at once instead of starting an empty chart.
 *
 * One timer serves every tunnel and runs only while at least one tunnel runs; the
 * manager's 'state' events start it, and a tick that finds nothing running ends it.
 * A stopped tunnel keeps its samples; when it starts again its new samples follow
 * the old ones in the same ring (a restart after a profile save must not wipe the
 * chart), and the dashboard breaks the line over the time it was stopped. Samples
 * go only when the ring is full or the profile is deleted (forget).
 */

export interface ThroughputRecorderOptions {
  manager: TunnelManager;
  /** Samples kept per tunnel. Default 300: five minutes at one a second. */
  capacity?: number;
  /** Default 1000 ms. */
  intervalMs?: number;
  /** Injected by tests; Date.now otherwise. */
  now?: () => number;
}

/** A fixed-size ring: pushing past capacity overwrites the oldest sample. */
export class SampleRing {
  readonly #slots: ThroughputSample[] = [];
  readonly #capacity: number;
  #next = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`A sample ring needs a capacity of at least 1, not ${capacity}`);
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#slots.length;
  }

  push(sample: ThroughputSample): void {
    if (this.#slots.length < this.#capacity) this.#slots.push(sample);
    else this.#slots[this.#next] = sample;
    this.#next = (this.#next + 1) % this.#capacity;
  }

  /** Oldest first, as copies the caller may keep. */
  toArray(): ThroughputSample[] {
    const ordered = this.#slots.length < this.#capacity ? this.#slots : [...this.#slots.slice(this.#next), ...this.#slots.slice(0, this.#next)];
    return ordered.map((s) => ({ ...s }));
  }
}

export class ThroughputRecorder {
  readonly #manager: TunnelManager;
  readonly #capacity: number;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #rings = new Map<string, SampleRing>();
  #timer: NodeJS.Timeout | null = null;
  #disposed = false;

  readonly #onState = (snapshot: TunnelSnapshot) => {
    if (snapshot.state === 'running') this.#ensureTimer();
    else if (!this.#anyRunning()) this.#stopTimer();
  };

  constructor(options: ThroughputRecorderOptions) {
    this.#manager = options.manager;
    this.#capacity = options.capacity ?? THROUGHPUT_HISTORY_SECONDS;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#now = options.now ?? Date.now;
    this.#manager.on('state', this.#onState);
    // The CLI starts its tunnels before the dashboard (and so this recorder) exists.
    if (this.#anyRunning()) this.#ensureTimer();
  }

  /** Whether the timer is running; true exactly while some tunnel runs. */
  get sampling(): boolean {
    return this.#timer !== null;
  }

  /** Oldest first; [] for a tunnel never seen running (or an id with no profile). */
  history(id: string): ThroughputSample[] {
    return this.#rings.get(id)?.toArray() ?? [];
  }

  /** Drops a deleted profile's samples, so a new profile with its id starts clean. */
  forget(id: string): void {
    this.#rings.delete(id);
  }

  dispose(): void {
    this.#disposed = true;
    this.#manager.off('state', this.#onState);
    this.#stopTimer();
  }

  #tick(): void {
    const time = this.#now();
    let running = 0;
    for (const snapshot of this.#manager.snapshots()) {
      if (snapshot.state !== 'running') continue;
      running++;
      let ring = this.#rings.get(snapshot.id);
      if (!ring) {
        ring = new SampleRing(this.#capacity);
        this.#rings.set(snapshot.id, ring);
      }
      ring.push(throughputSample(snapshot, time));
    }
    // Ends itself as well, so the timer's life never hangs on one 'state' event.
    if (running === 0) this.#stopTimer();
  }

  #anyRunning(): boolean {
    return this.#manager.snapshots().some((s) => s.state === 'running');
  }

  #ensureTimer(): void {
    if (this.#timer || this.#disposed) return;
    this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
    // History is a convenience: it must never keep the process alive.
    this.#timer.unref();
  }

  #stopTimer(): void {
    if (!this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = null;
  }
}
