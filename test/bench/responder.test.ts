import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createEngine } from '../../proxy/engine.ts';
import { encodeHeader, FrameParser, Opcode } from '../../proxy/ws/frame-parser.ts';
import { maskInto } from '../../proxy/ws/mask.ts';
import { testProfile } from '../support/sockets.ts';
import { readCpuProfile, summarizeProfile } from './cpu-profile.ts';
import { FrameScanner, fetchRequest, produceRequest } from './frames.ts';
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

const MiB = 1024 * 1024;

function request(correlationId: number, bytes = 64): Buffer {
  const frame = Buffer.from(produceRequest(bytes).frame);
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

async function openWebSocket(): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${responder.wsPort}/`, { perMessageDeflate: false, maxPayload: 64 * MiB });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return ws;
}

/** Collects the binary messages a `ws` client receives. */
function messages(ws: WebSocket): Buffer[] {
  const seen: Buffer[] = [];
  ws.on('message', (data: Buffer) => seen.push(data));
  return seen;
}

/** What a Kafka answer says about itself: correlation id, whole size, and whether its size prefix agrees. */
function described(answer: Buffer): { id: number; size: number; prefixOk: boolean } {
  return { id: answer.readInt32BE(4), size: answer.length, prefixOk: answer.readInt32BE(0) === answer.length - 4 };
}

/** A client frame as RFC 6455 §5.3 has it: header with a masking key, then the masked payload. */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const key = Buffer.from([0x12, 0x9a, 0x4c, 0xe7]);
  const header = encodeHeader({ opcode, length: payload.length, mask: key });
  const masked = Buffer.alloc(payload.length);
  maskInto(payload, key, 0, masked, 0);
  return Buffer.concat([header, masked]);
}

/** Opens a TCP connection to the responder's WebSocket port and sends `request`; resolves with the HTTP answer's head and the socket. */
async function rawHandshake(request: string): Promise<{ socket: Socket; response: string }> {
  const socket = connect({ host: '127.0.0.1', port: responder.wsPort });
  socket.write(request);
  let received = Buffer.alloc(0);
  const response = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      // Anything past the HTTP head would be frames; none are due before we send a request.
      expect(received.length).toBe(end + 4);
      resolve(received.subarray(0, end).toString('latin1'));
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
  return { socket, response };
}

function upgradeRequest(headers: Record<string, string>): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n${lines.join('')}\r\n`;
}

/** The RFC 6455 §1.3 example: this key must be answered with this accept value. */
const SAMPLE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const SAMPLE_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';
const GOOD_UPGRADE = { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': SAMPLE_KEY };

/** Reads unmasked server frames from a raw socket: whole payloads with their opcodes. */
function serverFrames(socket: Socket): { opcode: number; payload: Buffer }[] {
  const seen: { opcode: number; payload: Buffer }[] = [];
  const parser = new FrameParser({ maxFrameBytes: 64 * MiB, expectMasked: false });
  let opcode = 0;
  let parts: Buffer[] = [];
  const sink = {
    header: (h: { opcode: number }) => {
      opcode = h.opcode;
      parts = [];
    },
    payload: (bytes: Buffer) => parts.push(Buffer.from(bytes)),
    end: () => seen.push({ opcode, payload: Buffer.concat(parts) }),
  };
  socket.on('data', (chunk: Buffer) => parser.push(chunk, sink));
  return seen;
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
    const ws = await openWebSocket();
    const seen = messages(ws);
    ws.send(request(77));
    await until(() => seen.length === 1);
    expect(described(seen[0])).toEqual({ id: 77, size: 100, prefixOk: true });
    expect((await responder.status()).websocket).toBe(1);
    ws.close();
  });

  it('answers 1 MiB requests over WebSocket with 1 MiB answers, in order', async () => {
    await responder.configure(MiB);
    const ws = await openWebSocket();
    const seen = messages(ws);
    ws.send(request(11, MiB));
    ws.send(request(12, MiB));
    ws.send(request(13, 64));
    await until(() => seen.length === 3);
    expect(seen.map(described)).toEqual([
      { id: 11, size: MiB, prefixOk: true },
      { id: 12, size: MiB, prefixOk: true },
      { id: 13, size: MiB, prefixOk: true },
    ]);
    ws.close();
  });

  it('answers a Fetch with the configured size and a small answer to a large request', async () => {
    await responder.configure(300);
    const ws = await openWebSocket();
    const seen = messages(ws);
    const fetch = Buffer.from(fetchRequest(64).frame);
    fetch.writeInt32BE(21, 8);
    ws.send(fetch);
    ws.send(request(22, MiB));
    await until(() => seen.length === 2);
    expect(seen.map(described)).toEqual([
      { id: 21, size: 300, prefixOk: true },
      { id: 22, size: 300, prefixOk: true },
    ]);
    ws.close();
  });

  it('reads a request sent as several fragments, split inside the Kafka head', async () => {
    await responder.configure(128);
    const ws = await openWebSocket();
    const seen = messages(ws);
    const frame = request(31, MiB);
    // Three frames of one message: 6 bytes (half of the api key and correlation id), 4 more, the rest.
    ws.send(frame.subarray(0, 6), { binary: true, fin: false });
    ws.send(frame.subarray(6, 10), { binary: true, fin: false });
    ws.send(frame.subarray(10), { binary: true, fin: true });
    ws.send(request(32));
    await until(() => seen.length === 2);
    expect(seen.map(described)).toEqual([
      { id: 31, size: 128, prefixOk: true },
      { id: 32, size: 128, prefixOk: true },
    ]);
    ws.close();
  });

  it('reads frames cut at awkward places: inside the header, the masking key and the Kafka head, two frames in one write', async () => {
    await responder.configure(96);
    const { socket, response } = await rawHandshake(upgradeRequest(GOOD_UPGRADE));
    expect(response).toMatch(/^HTTP\/1\.1 101 /);
    expect(response).toContain(`Sec-WebSocket-Accept: ${SAMPLE_ACCEPT}`);
    const frames = serverFrames(socket);
    // 300 bytes: a 2-byte extended length, so the header is 2 + 2 + 4 (key) = 8 bytes.
    const first = clientFrame(Opcode.Binary, request(41, 300));
    const second = clientFrame(Opcode.Binary, request(42));
    const cuts = [1, 3, 6, 8 + 5, 8 + 11, first.length - 1];
    const bytes = Buffer.concat([first, second]);
    let from = 0;
    for (const to of [...cuts, bytes.length]) {
      await new Promise((resolve) => socket.write(bytes.subarray(from, to), resolve));
      // A pause lets the responder read each piece on its own (correct answers do not depend on it).
      await new Promise((r) => setTimeout(r, 20));
      from = to;
    }
    await until(() => frames.length === 2);
    expect(frames.map((f) => ({ opcode: f.opcode, ...described(f.payload) }))).toEqual([
      { opcode: Opcode.Binary, id: 41, size: 96, prefixOk: true },
      { opcode: Opcode.Binary, id: 42, size: 96, prefixOk: true },
    ]);
    socket.destroy();
  });

  it('refuses an upgrade without version 13 or without a key with 400', async () => {
    for (const headers of [
      { ...GOOD_UPGRADE, 'Sec-WebSocket-Version': '8' },
      { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Version': '13' },
      { ...GOOD_UPGRADE, 'Sec-WebSocket-Key': 'short' },
      { ...GOOD_UPGRADE, Upgrade: 'h2c' },
    ]) {
      const { socket, response } = await rawHandshake(upgradeRequest(headers));
      expect(response).toMatch(/^HTTP\/1\.1 400 /);
      socket.destroy();
    }
  });

  it('answers a ping with a pong carrying the same data', async () => {
    const ws = await openWebSocket();
    const pong = new Promise<Buffer>((resolve) => ws.once('pong', resolve));
    ws.ping(Buffer.from('are you there'));
    expect((await pong).toString()).toBe('are you there');
    ws.close();
  });

  it('answers a close with a close of the same code and lets the connection go', async () => {
    const ws = await openWebSocket();
    await until(() => ws.readyState === WebSocket.OPEN);
    expect(await responder.waitForWebSockets((n) => n >= 1, 5000)).toBe(true);
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    ws.close(4001, 'done');
    // Without the server's close frame the client would report 1006 (abnormal), after its 30 s timeout.
    expect(await closed).toBe(4001);
    expect(await responder.waitForWebSockets((n) => n === 0, 5000)).toBe(true);
  });

  it('answers a protocol error (an unmasked client frame) with close code 1002', async () => {
    const { socket } = await rawHandshake(upgradeRequest(GOOD_UPGRADE));
    const frames = serverFrames(socket);
    const ended = new Promise((resolve) => socket.once('end', resolve));
    const payload = request(51);
    socket.write(Buffer.concat([encodeHeader({ opcode: Opcode.Binary, length: payload.length, mask: null }), payload]));
    await ended;
    expect(frames).toHaveLength(1);
    expect(frames[0].opcode).toBe(Opcode.Close);
    expect(frames[0].payload.readUInt16BE(0)).toBe(1002);
    socket.destroy();
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

  it('stops answering a WebSocket while stalled and catches up on resume', async () => {
    await responder.configure(64);
    const ws = await openWebSocket();
    const seen = messages(ws);
    ws.send(request(1));
    await until(() => seen.length === 1);
    await responder.stall();
    ws.send(request(2));
    await responder.status();
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toHaveLength(1);
    await responder.resume();
    await until(() => seen.length === 2);
    expect(described(seen[1]).id).toBe(2);
    ws.close();
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

describe('a tunnel against the responder', () => {
  it('carries 1 MiB requests and 1 MiB answers both ways', async () => {
    await responder.configure(MiB);
    const engine = createEngine();
    const snap = await engine.start(testProfile({ broker: `127.0.0.1:${responder.wsPort}`, listenPort: 0, compatibility: 'passthrough' }));
    try {
      const socket = await connectTo(snap.listen!.port);
      const seen = answers(socket);
      socket.write(Buffer.concat([request(61, MiB), request(62, MiB), request(63)]));
      await until(() => seen.length === 3);
      expect(seen).toEqual([
        { id: 61, size: MiB },
        { id: 62, size: MiB },
        { id: 63, size: MiB },
      ]);
      socket.destroy();
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
