import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TunnelManager } from './manager.ts';
import { FrameReader, connectClient, kafkaFrame, startTestBroker, testProfile, type TestBroker } from '../test/support/sockets.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function broker(): Promise<TestBroker> {
  const b = await startTestBroker();
  cleanups.push(() => b.close());
  return b;
}

function manager(options: ConstructorParameters<typeof TunnelManager>[0] = {}): TunnelManager {
  const m = new TunnelManager(options);
  cleanups.push(() => m.stopAll());
  return m;
}

async function echo(port: number, text: string): Promise<Buffer[]> {
  const socket = await connectClient(port);
  const reader = new FrameReader(socket);
  socket.write(kafkaFrame(text));
  const frames = await reader.waitFor(1);
  socket.destroy();
  return frames;
}

describe('TunnelManager', () => {
  it('runs several tunnels; one that cannot start does not stop the others', async () => {
    const b = await broker();
    const squatter = createServer().listen(0, '127.0.0.1');
    await once(squatter, 'listening');
    cleanups.push(() => void squatter.close());
    const taken = (squatter.address() as { port: number }).port;
    const m = manager();
    const results = await Promise.allSettled([
      m.start(testProfile({ id: 'a', broker: `127.0.0.1:${b.port}` })),
      m.start(testProfile({ id: 'b', broker: `127.0.0.1:${b.port}`, listenPort: taken })),
      m.start(testProfile({ id: 'c', broker: `127.0.0.1:${b.port}` })),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(m.snapshot('b')).toMatchObject({ state: 'error', error: { code: 'PORT_IN_USE' } });
    expect(await echo(m.snapshot('a').listen!.port, 'to a')).toEqual([kafkaFrame('to a')]);
    expect(await echo(m.snapshot('c').listen!.port, 'to c')).toEqual([kafkaFrame('to c')]);
    expect(m.snapshots().map((s) => [s.id, s.state])).toEqual([
      ['a', 'running'],
      ['b', 'error'],
      ['c', 'running'],
    ]);
  });

  it('stops, reports stopped, and starts again', async () => {
    const b = await broker();
    const m = manager();
    const p = testProfile({ id: 'x', broker: `127.0.0.1:${b.port}` });
    await m.start(p);
    expect((await m.stop('x')).state).toBe('stopped');
    expect(m.isRunning('x')).toBe(false);
    const again = await m.start(p);
    expect(again.state).toBe('running');
    expect(await echo(again.listen!.port, 'back')).toEqual([kafkaFrame('back')]);
  });

  it('restarts a running tunnel only when its settings change', async () => {
    const b1 = await broker();
    const b2 = await broker();
    const m = manager();
    const p = testProfile({ id: 'x', broker: `127.0.0.1:${b1.port}` });
    const first = await m.start(p);
    const unchanged = await m.update(testProfile({ id: 'x', broker: `127.0.0.1:${b1.port}` }));
    expect(unchanged.startedAt).toBe(first.startedAt);
    const moved = await m.update(testProfile({ id: 'x', broker: `127.0.0.1:${b2.port}` }));
    expect(moved.brokerUrl).toBe(`ws://127.0.0.1:${b2.port}/`);
    await echo(moved.listen!.port, 'to b2');
    expect(b2.received).toEqual([kafkaFrame('to b2')]);
    expect(b1.received).toEqual([]);
  });

  it('keeps recent events, filtered by tunnel and limited', async () => {
    const b = await broker();
    const m = manager({ eventHistory: 3 });
    await m.start(testProfile({ id: 'a', broker: `127.0.0.1:${b.port}` }));
    await m.start(testProfile({ id: 'b', broker: `127.0.0.1:${b.port}` }));
    await m.stop('a');
    const all = m.events();
    expect(all.map((e) => [e.tunnelId, e.kind])).toEqual([
      ['a', 'tunnel-started'],
      ['b', 'tunnel-started'],
      ['a', 'tunnel-stopped'],
    ]);
    expect(m.events({ tunnelId: 'a', limit: 1 }).map((e) => e.kind)).toEqual(['tunnel-stopped']);
    expect(all[1].seq).toBeGreaterThan(all[0].seq);
  });

  it('starts an embedded broker for demo profiles and closes it on stop', async () => {
    const b = await startTestBroker();
    let closed = false;
    const m = manager({ startDemoBroker: async () => ({ url: b.url, close: async () => { closed = true; await b.close(); } }) });
    const snap = await m.start(testProfile({ id: 'demo', demoBroker: true }));
    expect(snap.brokerUrl).toBe(b.url);
    expect(await echo(snap.listen!.port, 'demo')).toEqual([kafkaFrame('demo')]);
    await m.stop('demo');
    expect(closed).toBe(true);
  });

  it('reports a demo broker that fails to start as the tunnel error', async () => {
    const m = manager({ startDemoBroker: async () => { throw new Error('out of ports'); } });
    await expect(m.start(testProfile({ id: 'demo', demoBroker: true }))).rejects.toMatchObject({ code: 'DEMO_BROKER_FAILED' });
    expect(m.snapshot('demo').error?.message).toMatch(/demo broker did not start: out of ports/);
  });
});
