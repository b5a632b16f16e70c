import { describe, expect, it } from 'vitest';
import type { ThroughputSample } from '../../../shared/stats.ts';
import { runningSnapshot } from '../testing/fake-api.ts';
import { GAP_SECONDS, ThroughputHistory, chartData } from './throughput-history.ts';

function hostSample(seconds: number, toBroker: number): ThroughputSample {
  return { time: seconds * 1000, toBrokerBytesPerSec: toBroker, toClientBytesPerSec: toBroker / 2, toBrokerFramesPerSec: 1, toClientFramesPerSec: 1 };
}

function pushAt(history: ThroughputHistory, seconds: number, toBroker: number): void {
  const snap = runningSnapshot('alpha');
  history.add([{ ...snap, toBroker: { ...snap.toBroker, bytesPerSec: toBroker } }], seconds * 1000);
}

describe('ThroughputHistory', () => {
  it('seeds from the host, then appends pushes with no second point where the two meet', () => {
    const history = new ThroughputHistory();
    history.seed('alpha', [hostSample(1000, 10), hostSample(1001, 11), hostSample(1002, 12)]);
    expect(history.series('alpha')).toEqual({ time: [1000, 1001, 1002], toBroker: [10, 11, 12], toClient: [5, 5.5, 6] });
    // A push 0.3 s after the host's last sample reads the same second: dropped. The next one is not.
    pushAt(history, 1002.3, 99);
    pushAt(history, 1003.2, 13);
    expect(history.series('alpha').time).toEqual([1000, 1001, 1002, 1003.2]);
    expect(history.series('alpha').toBroker).toEqual([10, 11, 12, 13]);
  });

  it('keeps what the pushes drew when the host answers late, and seeding twice changes nothing', () => {
    const history = new ThroughputHistory();
    pushAt(history, 2000.4, 40);
    pushAt(history, 2001.4, 41);
    const host = [1997, 1998, 1999, 2000, 2001].map((t) => hostSample(t, t - 1960));
    history.seed('alpha', host);
    const seeded = history.series('alpha');
    // 2000 and 2001 sit within the seam of the pushed points, which win.
    expect(seeded.time).toEqual([1997, 1998, 1999, 2000.4, 2001.4]);
    expect(seeded.toBroker).toEqual([37, 38, 39, 40, 41]);
    history.seed('alpha', host);
    expect(history.series('alpha')).toEqual(seeded);
  });

  it('fills a gap in the pushes (a reconnect) from the host', () => {
    const history = new ThroughputHistory();
    pushAt(history, 100, 1);
    pushAt(history, 110, 2);
    history.seed('alpha', [104, 105, 106].map((t) => hostSample(t, 9)));
    expect(history.series('alpha').time).toEqual([100, 104, 105, 106, 110]);
  });

  it('keeps five minutes ending at the newest point, so a stopped tunnel still shows its last minutes', () => {
    const history = new ThroughputHistory();
    const host = Array.from({ length: 400 }, (_, i) => hostSample(10_000 + i, i));
    history.seed('alpha', host);
    const series = history.series('alpha');
    expect(series.time[0]).toBe(10_399 - 300);
    expect(series.time.at(-1)).toBe(10_399);
    // Pushes for another tunnel, much later, leave it alone.
    const other = runningSnapshot('bravo');
    history.add([other], 50_000_000);
    expect(history.series('alpha')).toEqual(series);
    expect(history.series('unknown')).toEqual({ time: [], toBroker: [], toClient: [] });
  });

  it('ignores an empty answer', () => {
    const history = new ThroughputHistory();
    history.seed('alpha', []);
    expect(history.series('alpha').time).toEqual([]);
  });
});

describe('chartData', () => {
  it('breaks the line where the tunnel was not sampled, and joins consecutive seconds', () => {
    const t0 = 5000;
    const [time, up, down] = chartData({ time: [t0, t0 + 1, t0 + 1 + GAP_SECONDS + 1, t0 + 3 + GAP_SECONDS], toBroker: [1, 2, 3, 4], toClient: [5, 6, 7, 8] });
    expect(time).toEqual([t0, t0 + 1, t0 + 1 + (GAP_SECONDS + 1) / 2, t0 + 1 + GAP_SECONDS + 1, t0 + 3 + GAP_SECONDS]);
    expect(up).toEqual([1, 2, null, 3, 4]);
    expect(down).toEqual([5, 6, null, 7, 8]);
    expect(chartData({ time: [], toBroker: [], toClient: [] })).toEqual([[], [], []]);
  });
});
