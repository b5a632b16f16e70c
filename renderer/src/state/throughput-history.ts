import type { TunnelSnapshot } from '../../../shared/stats.ts';

/**
 * The last few minutes of throughput per tunnel, sampled from the stats pushes
 * (about one a second). Kept in the page: the engine publishes rates, not history,
 * so the chart starts filling when the dashboard opens.
 */

export const HISTORY_SECONDS = 5 * 60;

export interface ThroughputSeries {
  /** Unix seconds, as uPlot wants them. */
  time: number[];
  toBroker: number[];
  toClient: number[];
}

function emptySeries(): ThroughputSeries {
  return { time: [], toBroker: [], toClient: [] };
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
      // Two pushes within the same instant (a reconnect resync) would draw a spike.
      if (last !== undefined && now - last < 0.25) continue;
      series.time.push(now);
      series.toBroker.push(snap.toBroker.bytesPerSec);
      series.toClient.push(snap.toClient.bytesPerSec);
    }
    for (const series of this.#series.values()) this.#trim(series, now);
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

  #trim(series: ThroughputSeries, now: number): void {
    let drop = 0;
    while (drop < series.time.length && series.time[drop] < now - this.#windowSeconds) drop++;
    if (drop === 0) return;
    series.time.splice(0, drop);
    series.toBroker.splice(0, drop);
    series.toClient.splice(0, drop);
  }
}
