import { afterEach, describe, expect, it } from 'vitest';
import type { TunnelEvent } from '../../shared/stats.ts';
import { kafkaAwareTunnelOptions } from '../../proxy/kafka-aware.ts';
import { requestFrame, responseFrame } from '../../proxy/kafka/test-frames.ts';
import { Tunnel } from '../../proxy/tunnel.ts';
import { FrameReader, connectClient, kafkaFrame, testProfile, waitForEvent } from '../support/sockets.ts';
import { FaultBroker } from './fault-broker.ts';

/** Edge cases the reliability work found in the bridge (issue #8), fixed with these tests. */

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(profile: Parameters<typeof testProfile>[0], kafkaAware = false, mode?: FaultBroker['mode']) {
  const broker = await FaultBroker.start();
  if (mode) broker.mode = mode;
  cleanups.push(() => broker.close());
  const p = testProfile({ broker: `127.0.0.1:${broker.port}`, ...profile });
  const { attach, ...options } = kafkaAware ? kafkaAwareTunnelOptions(p) : {};
  const tunnel = new Tunnel(p, options);
  attach?.(tunnel);
  await tunnel.start();
  cleanups.push(() => tunnel.stop());
  const socket = await connectClient(tunnel.port);
  cleanups.push(() => void socket.destroy());
  return { broker, tunnel, socket, reader: new FrameReader(socket) };
}

describe('bridge edge cases', () => {
  it('a broker message above maxFrameBytes is reported as such, not as a dropped connection', async () => {
    const { broker, tunnel, socket } = await setup({ maxFrameBytes: 64 * 1024 });
    broker.mode = { kind: 'script', onMessage: (ws) => ws.send(kafkaFrame(Buffer.alloc(64 * 1024 + 1))) };
    const closed = waitForEvent<TunnelEvent>(tunnel, (e) => e.kind === 'connection-closed');
    socket.write(kafkaFrame('x'));
    const event = await closed;
    expect(event.message).toMatch(/Broker sent a message larger than the 64\.0 KiB frame limit/);
  });

  it('a Kafka-aware tunnel delivers the response to a request in flight when the client half-closes', async () => {
    const { broker, socket, reader } = await setup({ keepaliveMs: 0 }, true);
    // The broker takes a moment to answer, as a real one does.
    broker.mode = { kind: 'script', onMessage: (ws, data) => setTimeout(() => ws.send(responseFrame(1, 0, data.readInt32BE(8), (w) => w.writeInt32(0))), 100) };
    socket.write(requestFrame(1, 0, 7, (w) => w.writeInt32(-1).writeInt32(0).writeInt32(0).writeInt32(0)));
    await new Promise((r) => setTimeout(r, 30));
    socket.end();
    await reader.waitForEnd();
    expect(reader.frames.map((f) => f.readInt32BE(4))).toEqual([7]);
  });

  it('a client that leaves before the broker connection opens, having sent nothing, is not a broker failure', async () => {
    // The broker accepts TCP but never finishes the upgrade: the bridge is surely still connecting.
    const { tunnel, socket } = await setup({}, false, { kind: 'hang' });
    const closed = waitForEvent<TunnelEvent>(tunnel, (e) => e.kind === 'connection-closed');
    socket.end();
    const event = await closed;
    expect(event).toMatchObject({ level: 'info', code: 'CLIENT_CLOSED' });
    expect(event.message).toMatch(/Client closed before the broker connection opened/);
    expect(tunnel.snapshot().connections.failed).toBe(0);
  });
});
