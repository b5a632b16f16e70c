import { THROUGHPUT_HISTORY_SECONDS, type ThroughputSample, type TunnelSnapshot } from '../../../shared/stats.ts';

/**
 * The last few minutes of throughput per tunnel, as the chart draws them. Seeded
 * from the host's own history ('tunnels:history') when a tunnel is shown, so the
 * chart is full as soon as the window opens, then extended by the stats pushes
 * (about one a second).
 */

export const HISTORY_SECONDS = THROUGHPUT_HISTORY_SECONDS;

/**
 * Two points closer than this describe the same second: the host's sampler and
 * the stats push run on separate 1 Hz timers, so where the seeded history meets
 * the live pushes (and after a reconnect resync) one of the pair is dropped.
 */
export const SEAM_SECONDS = 0.5;

/** Points further apart than this are not joined by a line: the tunnel was stopped or the page away. */
export const GAP_SECONDS = 5;

export interface ThroughputSeries {
  /** Unix seconds, as uPlot wants them. */
  time: number[];
  toBroker: number[];
  toClient: number[];
}

interface Point {
  time: number;
  toBroker: number;
  toClient: number;
}

function emptySeries(): ThroughputSeries {
  return { time: [], toBroker: [], toClient: [] };
}

function pointsOf(series: ThroughputSeries): Point[] {
  return series.time.map((time, i) => ({ time, toBroker: series.toBroker[i], toClient: series.toClient[i] }));
}

function seriesOf(points: readonly Point[]): ThroughputSeries {
  return { time: points.map((p) => p.time), toBroker: points.map((p) => p.toBroker), toClient: points.map((p) => p.toClient) };
}

export class ThroughputHistory {
  readonly #series = new Map<string, ThroughputSeries>();
  readonly #windowSeconds: number;

  constructor(options: { windowSeconds?: number } = {}) {
    this.#windowSeconds = options.windowSeconds ?? HISTORY_SECONDS;
  }

  /** Records one sample per running tunnel; a stopped tunnel keeps its past. */
  add(snapshots: readonly TunnelSnapshot[], nowMs: number): void {
    const now = nowMs / 1000;
    for (const snap of snapshots) {
      if (snap.state !== 'running') continue;
      let series = this.#series.get(snap.id);
      if (!series) {
        series = emptySeries();
        this.#series.set(snap.id, series);
      }
      const last = series.time.at(-1);
      if (last !== undefined && now - last < SEAM_SECONDS) continue;
      series.time.push(now);
      series.toBroker.push(snap.toBroker.bytesPerSec);
      series.toClient.push(snap.toClient.bytesPerSec);
      this.#trim(series);
    }
  }

  /**
   * Merges the host's samples for one tunnel with what the pushes already drew.
   * Pushed points win where both cover the same second; the host's fill in
   * before them and in any gap (a reconnect), so seeding twice changes nothing.
   */
  seed(id: string, samples: readonly ThroughputSample[]): void {
    const own = pointsOf(this.#series.get(id) ?? emptySeries());
    const merged = [...own];
    for (const s of samples) {
      const time = s.time / 1000;
      if (own.some((p) => Math.abs(p.time - time) < SEAM_SECONDS)) continue;
      merged.push({ time, toBroker: s.toBrokerBytesPerSec, toClient: s.toClientBytesPerSec });
    }
    merged.sort((a, b) => a.time - b.time);
    // The host's ring is bounded by count, the chart by time; keep the newest window.
    const end = merged.at(-1)?.time ?? 0;
    const kept = merged.filter((p) => p.time >= end - this.#windowSeconds);
    if (kept.length > 0) this.#series.set(id, seriesOf(kept));
  }

  /** A copy: the caller may hold on to it while sampling goes on. */
  series(id: string): ThroughputSeries {
    const s = this.#series.get(id);
    if (!s) return emptySeries();
    return { time: s.time.slice(), toBroker: s.toBroker.slice(), toClient: s.toClient.slice() };
  }

  forget(id: string): void {
    this.#series.delete(id);
  }

  /**
   * Against its own newest point, not the clock: a stopped tunnel keeps showing
   * the five minutes before it stopped, the same window the host would seed.
   */
  #trim(series: ThroughputSeries): void {
    const end = series.time.at(-1) ?? 0;
    let drop = 0;
    while (drop < series.time.length && series.time[drop] < end - this.#windowSeconds) drop++;
    if (drop === 0) return;
    series.time.splice(0, drop);
    series.toBroker.splice(0, drop);
    series.toClient.splice(0, drop);
  }
}

/** uPlot's data, with a null between points more than GAP_SECONDS apart so the line breaks there. */
export function chartData(series: ThroughputSeries): [number[], (number | null)[], (number | null)[]] {
  const time: number[] = [];
  const toBroker: (number | null)[] = [];
  const toClient: (number | null)[] = [];
  for (let i = 0; i < series.time.length; i++) {
    const t = series.time[i];
    if (i > 0 && t - series.time[i - 1] > GAP_SECONDS) {
      time.push((t + series.time[i - 1]) / 2);
      toBroker.push(null);
      toClient.push(null);
    }
    time.push(t);
    toBroker.push(series.toBroker[i]);
    toClient.push(series.toClient[i]);
  }
  return [time, toBroker, toClient];
}
