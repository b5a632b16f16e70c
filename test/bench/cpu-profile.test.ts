import { describe, expect, it } from 'vitest';
import { summarizeProfile, type CpuProfile } from './cpu-profile.ts';

const ROOT_URL = new URL('../../', import.meta.url).href;

function node(id: number, functionName: string, url = '', lineNumber = 0) {
  return { id, callFrame: { functionName, url, lineNumber } };
}

// Samples 10 µs apart from t=1000: idle, idle, forward x3, mask x4, gc.
const profile: CpuProfile = {
  nodes: [
    node(1, '(root)'),
    node(2, '(idle)'),
    node(3, 'forward', `${ROOT_URL}proxy/bridge.ts`, 41),
    node(4, '_mask', `${ROOT_URL}node_modules/ws/lib/buffer-util.js`, 46),
    node(5, '(garbage collector)'),
  ],
  startTime: 1000,
  endTime: 1100,
  samples: [2, 2, 3, 3, 3, 4, 4, 4, 4, 5],
  timeDeltas: [10, 10, 10, 10, 10, 10, 10, 10, 10, 10],
};

describe('summarizeProfile', () => {
  it('charges self time per function and per file, as shares of busy time', () => {
    const s = summarizeProfile(profile);
    expect(s.idleMicros).toBe(20);
    expect(s.busyMicros).toBe(80);
    expect(s.functions.map((f) => [f.label, f.share])).toEqual([
      ['_mask (node_modules/ws/lib/buffer-util.js:47)', 0.5],
      ['forward (proxy/bridge.ts:42)', 0.375],
      ['(garbage collector)', 0.125],
    ]);
    expect(s.files[0]).toMatchObject({ label: 'node_modules/ws/lib/buffer-util.js', micros: 40 });
  });

  it('counts only samples inside a window', () => {
    // Sample times are 1010, 1020, ... 1100; keep 1030..1060: forward x3, mask x1.
    const s = summarizeProfile(profile, { fromMicros: 1030, toMicros: 1060 });
    expect(s.busyMicros).toBe(40);
    expect(s.functions[0]).toMatchObject({ label: 'forward (proxy/bridge.ts:42)', share: 0.75 });
  });

  it('falls back to hit counts when the profile has no sample list', () => {
    const s = summarizeProfile({ ...profile, samples: undefined, timeDeltas: undefined, nodes: profile.nodes.map((n) => ({ ...n, hitCount: n.id === 3 ? 3 : n.id === 2 ? 1 : 0 })) });
    expect(s.busyMicros).toBe(75);
    expect(s.idleMicros).toBe(25);
  });
});
