import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { ApiKey } from './kafka/api-keys.ts';
import { encodeFetchResponseV0 } from './kafka/fetch-v0.ts';
import { requestFrame, responseFrame } from './kafka/test-frames.ts';
import { kafkaAwareTunnelOptions } from './kafka-aware.ts';
import { connect } from './library.ts';
import { Tunnel } from './tunnel.ts';
import { encodeHeader, Opcode } from './ws/frame-parser.ts';
import { FrameReader, connectClient, numberedFrame, startTestBroker, testProfile } from '../test/support/sockets.ts';

/**
 * Large frames stream through the bridge in pieces (framing.ts, ws/link.ts).
 * These tests hold a frame half-way to show what must not happen meanwhile.
 */

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function rawSocket(ws: WebSocket): Socket {
  return (ws as unknown as { _socket: Socket })._socket;
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 10));
}

describe('streaming through the bridge', () => {
  it('holds a local answer until the response being streamed to the client is complete', async () => {
    let brokerSide: WebSocket | null = null;
    const broker = await startTestBroker({ onConnection: (ws) => (brokerSide = ws), onMessage: () => {} });
    cleanups.push(() => broker.close());
    // legacy: the session answers ApiVersions itself, at once.
    const profile = testProfile({ broker: `127.0.0.1:${broker.port}`, kafkaAware: true, compatibility: 'legacy' });
    const { attach, ...options } = kafkaAwareTunnelOptions(profile);
    const tunnel = new Tunnel(profile, options);
    attach?.(tunnel);
    await tunnel.start();
    cleanups.push(() => tunnel.stop());

    const client = await connectClient(tunnel.port);
    cleanups.push(() => void client.destroy());
    const reader = new FrameReader(client);
    let clientBytes = 0;
    client.on('data', (c: Buffer) => (clientBytes += c.length));

    client.write(requestFrame(ApiKey.Fetch, 0, 1, (w) => w.writeInt32(-1).writeInt32(100).writeInt32(1).writeInt32(0)));
    await until(() => broker.received.length === 1);
    const response = responseFrame(ApiKey.Fetch, 0, 1, (w) =>
      encodeFetchResponseV0({ topics: [{ topic: 't', partitions: [{ partition: 0, errorCode: 0, highWatermark: 1n, messageSet: Buffer.alloc(300_000, 9) }] }] }, w),
    );
    // Half the response, written raw so the message is cut mid-payload on the wire.
    const socket = rawSocket(brokerSide!);
    socket.write(encodeHeader({ opcode: Opcode.Binary, length: response.length, mask: null }));
    socket.write(response.subarray(0, 100_000));
    await until(() => clientBytes >= 100_000);

    // Answered by the session while the Fetch answer is half-way to the client.
    client.write(requestFrame(ApiKey.ApiVersions, 0, 2));
    await new Promise((r) => setTimeout(r, 100));
    expect(clientBytes).toBe(100_000);

    socket.write(response.subarray(100_000));
    const [fetch, apiVersions] = await reader.waitFor(2);
    expect(fetch.equals(response)).toBe(true);
    expect(apiVersions.readInt32BE(4)).toBe(2);
    const apis = tunnel.snapshot().apis ?? [];
    expect(apis.find((a) => a.name === 'Fetch')).toMatchObject({ responses: 1, responseBytes: response.length });
    expect(apis.find((a) => a.name === 'ApiVersions')).toMatchObject({ responses: 1, local: 1 });
  });

  it('a client that leaves in the middle of a streamed request aborts the broker connection, not the tunnel', async () => {
    const broker = await startTestBroker();
    cleanups.push(() => broker.close());
    const tunnel = new Tunnel(testProfile({ broker: `127.0.0.1:${broker.port}` }));
    await tunnel.start();
    cleanups.push(() => tunnel.stop());

    const leaving = await connectClient(tunnel.port);
    const big = numberedFrame(1, 1024 * 1024);
    // A first small frame and its echo: the broker connection is open.
    const leavingReader = new FrameReader(leaving);
    leaving.write(numberedFrame(0, 10));
    await leavingReader.waitFor(1);
    leaving.write(big.subarray(0, 300_000));
    // Streamed: the broker has most of it already, though the frame is not complete.
    await until(() => rawSocket(broker.connections[0]).bytesRead > 300_000);
    leaving.destroy();
    // The broker never sees a partial message: its connection drops without one.
    const closed = await new Promise<number>((resolve) => broker.connections[0].once('close', (code) => resolve(code)));
    expect(closed).toBe(1006);
    expect(broker.received).toHaveLength(1);

    const next = await connectClient(tunnel.port);
    cleanups.push(() => void next.destroy());
    const reader = new FrameReader(next);
    next.write(big);
    const [echo] = await reader.waitFor(1);
    expect(echo.equals(big)).toBe(true);
  });

  it('keeps a connection whose client pauses in the middle of a streamed request for longer than the keepalive', async () => {
    const broker = await startTestBroker();
    cleanups.push(() => broker.close());
    const tunnel = new Tunnel(testProfile({ broker: `127.0.0.1:${broker.port}`, keepaliveMs: 50 }));
    const closes: string[] = [];
    tunnel.on('event', (e) => {
      if (e.kind === 'connection-closed') closes.push(e.code ?? '');
    });
    await tunnel.start();
    cleanups.push(() => tunnel.stop());

    const client = await connectClient(tunnel.port);
    cleanups.push(() => void client.destroy());
    const reader = new FrameReader(client);
    client.write(numberedFrame(0, 10));
    await reader.waitFor(1);
    const big = numberedFrame(1, 512 * 1024);
    client.write(big.subarray(0, 200_000));
    await until(() => rawSocket(broker.connections[0]).bytesRead > 200_000);
    // Ten keepalive rounds with the request half-written: no ping can go out meanwhile.
    await new Promise((r) => setTimeout(r, 500));
    client.write(big.subarray(200_000));
    await Promise.race([reader.waitFor(2), reader.waitForEnd()]);
    expect(closes).toEqual([]);
    expect(reader.frames[1]?.equals(big)).toBe(true);
  });

  it('leaves the caller\'s buffer untouched when the library streams it (it is not ours to mask)', async () => {
    const broker = await startTestBroker();
    cleanups.push(() => broker.close());
    const socket = connect({ broker: `ws://127.0.0.1:${broker.port}`, kafkaAware: false });
    cleanups.push(() => void socket.destroy());
    const big = numberedFrame(7, 1024 * 1024);
    const copy = Buffer.from(big);
    const echoed: Buffer[] = [];
    socket.on('data', (c: Buffer) => echoed.push(c));
    // In pieces, so the request is streamed rather than gathered.
    for (let at = 0; at < big.length; at += 100_000) socket.write(big.subarray(at, at + 100_000));
    await until(() => Buffer.concat(echoed).length >= big.length);
    expect(big.equals(copy)).toBe(true);
    expect(Buffer.concat(echoed).equals(copy)).toBe(true);
  });
});
