import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { Tunnel } from './tunnel.ts';
import { FrameReader, connectClient, kafkaFrame, numberedFrame, startTestBroker, testProfile } from '../test/support/sockets.ts';

/**
 * A peer that stops reading must not make the tunnel buffer without bound: the
 * other side is paused. When the stall ends, everything arrives, in order.
 */

const FRAME_BYTES = 1024 * 1024;
const FRAMES = 64;
/** What the tunnel may have accepted while stalled: its own buffers plus both kernels'. */
const BOUND = 32 * 1024 * 1024;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function numbered(i: number): Buffer {
  return numberedFrame(i, FRAME_BYTES);
}

/** Resolves once `read()` has stopped changing for a while: the pipeline is full. */
async function settled(read: () => number): Promise<number> {
  let last = -1;
  let stableRounds = 0;
  while (stableRounds < 5) {
    await new Promise((r) => setTimeout(r, 60));
    const now = read();
    stableRounds = now === last ? stableRounds + 1 : 0;
    last = now;
  }
  return last;
}

function rawSocket(ws: WebSocket): Socket {
  return (ws as unknown as { _socket: Socket })._socket;
}

describe('backpressure', () => {
  it('pauses the client while the broker stops reading, then delivers every frame in order', async () => {
    let stalled: WebSocket | null = null;
    const broker = await startTestBroker({
      onConnection: (ws) => {
        stalled = ws;
        rawSocket(ws).pause();
      },
      onMessage: () => {},
    });
    cleanups.push(() => broker.close());
    const tunnel = new Tunnel(testProfile({ broker: `127.0.0.1:${broker.port}` }));
    await tunnel.start();
    cleanups.push(() => tunnel.stop());

    const client = await connectClient(tunnel.port);
    cleanups.push(() => void client.destroy());
    for (let i = 0; i < FRAMES; i++) client.write(numbered(i));

    const accepted = await settled(() => tunnel.snapshot().toBroker.bytes);
    expect(accepted).toBeLessThan(BOUND);
    expect(client.writableLength).toBeGreaterThan(FRAMES * FRAME_BYTES - BOUND - 8 * 1024 * 1024);

    rawSocket(stalled!).resume();
    while (broker.received.length < FRAMES) await new Promise((r) => setTimeout(r, 20));
    expect(broker.received.map((f) => f.readUInt32BE(4))).toEqual([...Array(FRAMES).keys()]);
    expect(broker.received.every((f, i) => f.equals(numbered(i)))).toBe(true);
  });

  it('stops reading from the broker while the client stops reading, then delivers every frame in order', async () => {
    const broker = await startTestBroker({
      onMessage: (ws) => {
        for (let i = 0; i < FRAMES; i++) ws.send(numbered(i));
      },
    });
    cleanups.push(() => broker.close());
    const tunnel = new Tunnel(testProfile({ broker: `127.0.0.1:${broker.port}` }));
    await tunnel.start();
    cleanups.push(() => tunnel.stop());

    const client = await connectClient(tunnel.port);
    cleanups.push(() => void client.destroy());
    client.pause();
    client.write(kafkaFrame('send me everything'));

    const delivered = await settled(() => tunnel.snapshot().toClient.bytes);
    expect(delivered).toBeLessThan(BOUND);
    expect(broker.connections[0].bufferedAmount).toBeGreaterThan(0);

    const reader = new FrameReader(client);
    client.resume();
    const frames = await reader.waitFor(FRAMES);
    expect(frames.map((f) => f.readUInt32BE(4))).toEqual([...Array(FRAMES).keys()]);
    expect(frames.every((f, i) => f.equals(numbered(i)))).toBe(true);
  });
});
