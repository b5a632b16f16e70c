import { afterEach, describe, expect, it } from 'vitest';
import { profileSchema, type ProfileInput } from '../../shared/profile.ts';
import type { ThroughputSample } from '../../shared/stats.ts';
import { FrameReader, connectClient, kafkaFrame, startTestBroker } from '../../test/support/sockets.ts';
import { TunnelManager } from '../manager.ts';
import { SampleRing, ThroughputRecorder } from './throughput-recorder.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function profile(overrides: Partial<ProfileInput> = {}) {
  return profileSchema.parse({ id: 'prod', name: 'Prod', broker: '127.0.0.1:1', listenPort: 0, keepaliveMs: 0, ...overrides });
}

function manager(): TunnelManager {
  const m = new TunnelManager();
  cleanups.push(() => m.stopAll());
  return m;
}

function recorder(options: ConstructorParameters<typeof ThroughputRecorder>[0]): ThroughputRecorder {
  const r = new ThroughputRecorder(options);
  cleanups.push(() => r.dispose());
  return r;
}

function sample(time: number): ThroughputSample {
  return { time, toBrokerBytesPerSec: time, toClientBytesPerSec: 0, toBrokerFramesPerSec: 0, toClientFramesPerSec: 0 };
}

async function until(condition: () => boolean): Promise<void> {
  await expect.poll(condition, { timeout: 10_000, interval: 5 }).toBe(true);
}

describe('SampleRing', () => {
  it('keeps the newest samples in order once it wraps, and hands out copies', () => {
    const ring = new SampleRing(3);
    expect(ring.toArray()).toEqual([]);
    for (const t of [1, 2]) ring.push(sample(t));
    expect(ring.toArray().map((s) => s.time)).toEqual([1, 2]);
    for (const t of [3, 4, 5, 6, 7]) ring.push(sample(t));
    expect(ring.size).toBe(3);
    expect(ring.toArray().map((s) => s.time)).toEqual([5, 6, 7]);
    ring.toArray()[0].time = 99;
    expect(ring.toArray()[0].time).toBe(5);
    expect(() => new SampleRing(0)).toThrow(RangeError);
  });
});

describe('ThroughputRecorder', () => {
  it('samples only while a tunnel runs, keeps the history after a stop, and continues it after a restart', async () => {
    const m = manager();
    const r = recorder({ manager: m, intervalMs: 5 });
    expect(r.sampling).toBe(false);
    expect(r.history('prod')).toEqual([]);

    await m.start(profile());
    expect(r.sampling).toBe(true);
    await until(() => r.history('prod').length >= 3);
    await m.stop('prod');
    expect(r.sampling).toBe(false);
    const kept = r.history('prod');
    expect(kept.length).toBeGreaterThanOrEqual(3);
    // Nothing is added while stopped; wait on another running tunnel's samples rather than a clock.
    await m.start(profile({ id: 'other', name: 'Other' }));
    await until(() => r.history('other').length >= 3);
    expect(r.history('prod')).toEqual(kept);
    await m.stop('other');

    await m.start(profile());
    await until(() => r.history('prod').length > kept.length);
    const continued = r.history('prod');
    expect(continued.slice(0, kept.length)).toEqual(kept);
    const times = continued.map((s) => s.time);
    expect(times).toEqual([...times].sort((a, b) => a - b));

    r.forget('prod');
    await m.stopAll();
    expect(r.history('prod')).toEqual([]);
    expect(r.sampling).toBe(false);
  });

  it('starts sampling at once for tunnels already running when it is created (the CLI starts them first)', async () => {
    const m = manager();
    await m.start(profile());
    const r = recorder({ manager: m, intervalMs: 5 });
    expect(r.sampling).toBe(true);
    await until(() => r.history('prod').length >= 2);
    r.dispose();
    expect(r.sampling).toBe(false);
    expect(m.listenerCount('state')).toBe(0);
  });

  it('records the rates the tunnel measures for real traffic', async () => {
    const broker = await startTestBroker();
    cleanups.push(() => broker.close());
    const m = manager();
    const r = recorder({ manager: m, intervalMs: 20 });
    const started = await m.start(profile({ broker: broker.url }));
    const client = await connectClient(started.listen!.port);
    cleanups.push(() => void client.destroy());
    const reader = new FrameReader(client);
    let sent = 0;
    // Keep frames flowing until a once-a-second rate window has seen them.
    await expect
      .poll(
        async () => {
          client.write(kafkaFrame(`frame ${sent++}`));
          await reader.waitFor(sent);
          return r.history('prod').some((s) => s.toBrokerBytesPerSec > 0 && s.toBrokerFramesPerSec > 0 && s.toClientBytesPerSec > 0);
        },
        { timeout: 15_000, interval: 50 },
      )
      .toBe(true);
  });
});
