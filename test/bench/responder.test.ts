import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createEngine } from '../../proxy/engine.ts';
import { testProfile } from '../support/sockets.ts';
import { readCpuProfile, summarizeProfile } from './cpu-profile.ts';
import { FrameScanner, produceRequest } from './frames.ts';
import { connectTo } from './load.ts';
import { probeSession } from './probe.ts';
import { Responder } from './responder.ts';
import { TunnelProcess } from './tunnel-process.ts';

let responder: Responder;
beforeAll(async () => {
  responder = await Responder.start();
});
afterAll(async () => {
  await responder?.close();
});

function request(correlationId: number): Buffer {
  const frame = Buffer.from(produceRequest(64).frame);
  frame.writeInt32BE(correlationId, 8);
  return frame;
}

/** Collects answers (correlation id and size) from a TCP socket. */
function answers(socket: import('node:net').Socket): { id: number; size: number }[] {
  const seen: { id: number; size: number }[] = [];
  const scanner = new FrameScanner({ maxFrameBytes: 1 << 30 });
  socket.on('data', (chunk: Buffer) => scanner.push(chunk, (head, size) => seen.push({ id: head.readInt32BE(4), size })));
  return seen;
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 10));
}

describe('the responder process', () => {
  it('answers over TCP with the configured size and the same correlation id', async () => {
    await responder.configure(200);
    const socket = await connectTo(responder.tcpPort);
    const seen = answers(socket);
    socket.write(Buffer.concat([request(5), request(6)]));
    await until(() => seen.length === 2);
    expect(seen).toEqual([
      { id: 5, size: 200 },
      { id: 6, size: 200 },
    ]);
    socket.destroy();
  });

  it('answers over WebSocket, one message per frame', async () => {
    await responder.configure(100);
    const ws = new WebSocket(`ws://127.0.0.1:${responder.wsPort}/`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const message = new Promise<Buffer>((resolve) => ws.once('message', (data: Buffer) => resolve(data)));
    ws.send(request(77));
    const data = await message;
    expect(data.length).toBe(100);
    expect(data.readInt32BE(0)).toBe(96);
    expect(data.readInt32BE(4)).toBe(77);
    expect((await responder.status()).websocket).toBe(1);
    ws.close();
  });

  it('stops answering while stalled and catches up on resume', async () => {
    await responder.configure(64);
    const socket = await connectTo(responder.tcpPort);
    const seen = answers(socket);
    socket.write(request(1));
    await until(() => seen.length === 1);
    await responder.stall();
    socket.write(request(2));
    // A round trip to the responder: had it read the request, the answer would be on its way.
    await responder.status();
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toHaveLength(1);
    await responder.resume();
    await until(() => seen.length === 2);
    expect(seen[1].id).toBe(2);
    socket.destroy();
  });
});

describe('probeSession', () => {
  it('says "off" for the plain path and "on" through a tunnel running the Kafka-aware session', async () => {
    expect(await probeSession(responder.tcpPort)).toBe('off');
    const engine = createEngine();
    const snap = await engine.start(testProfile({ broker: `127.0.0.1:${responder.wsPort}`, listenPort: 0, compatibility: 'passthrough' }));
    try {
      expect(await probeSession(snap.listen!.port)).toBe('on');
    } finally {
      await engine.stopAll();
    }
  });
});

describe('TunnelProcess', () => {
  it('runs the real CLI, reads its RSS and writes a CPU profile when stopped', async () => {
    const tunnel = await TunnelProcess.start({ brokerPort: responder.wsPort, name: 'unit-test', cpuProfile: true });
    let profile: Awaited<ReturnType<TunnelProcess['stop']>> = null;
    try {
      expect(tunnel.port).toBeGreaterThan(0);
      await responder.configure(64);
      const socket = await connectTo(tunnel.port);
      const seen = answers(socket);
      socket.write(request(9));
      await until(() => seen.length === 1);
      expect(seen[0]).toEqual({ id: 9, size: 64 });
      socket.destroy();
      expect(tunnel.rss.peakSince(0)).toBeGreaterThan(10 * 1024 * 1024);
    } finally {
      profile = await tunnel.stop();
    }
    expect(profile).not.toBeNull();
    const summary = summarizeProfile(readCpuProfile(profile!.path));
    expect(summary.busyMicros).toBeGreaterThan(0);
  });
});
