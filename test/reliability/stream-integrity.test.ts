import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { kafkaAwareTunnelOptions } from '../../proxy/kafka-aware.ts';
import { Tunnel } from '../../proxy/tunnel.ts';
import { testProfile } from '../support/sockets.ts';
import { Random, StreamFrames, firstDifference, frameOf, payload, runSeed, settle } from './harness.ts';

/**
 * Issue #8.1, nothing lost, nothing reordered. Many connections push frames of
 * random sizes (0 bytes to several MiB) through real tunnels, written in random
 * chunks that cut size prefixes and frames anywhere; the broker answers every
 * request with a frame of its own random size, sent as a WebSocket message split
 * into random fragments. Every frame must arrive exactly once, in order,
 * byte-identical, both ways. Half the connections go through a plain tunnel, half
 * through a Kafka-aware one (requests carry a Fetch v0 header, so the session
 * reads them and must still pass every byte through).
 *
 * Seeded: a failure prints RELIABILITY_SEED=<n>; set it to replay the same run.
 */

const KiB = 1024;
const MiB = 1024 * KiB;
const CONNECTIONS = 16;
const FRAMES_PER_CONNECTION = 24;
const SEED = runSeed();

interface ConnectionPlan {
  /** Body sizes of the requests, in order; the broker answers each with `responses[i]` bytes. */
  requests: number[];
  responses: number[];
}

function drawSize(rng: Random): number {
  const r = rng.next();
  if (r < 0.35) return rng.int(0, 64);
  if (r < 0.65) return rng.int(65, 8 * KiB);
  if (r < 0.9) return rng.int(8 * KiB, 256 * KiB);
  return rng.int(256 * KiB, MiB);
}

/** Random sizes, plus in each direction one empty frame and one of 1.5–5 MiB at random places. */
function planSizes(rng: Random): number[] {
  const sizes = Array.from({ length: FRAMES_PER_CONNECTION }, () => drawSize(rng));
  const large = rng.int(0, sizes.length - 1);
  sizes[large] = rng.int(Math.floor(1.5 * MiB), 5 * MiB);
  sizes[(large + rng.int(1, sizes.length - 1)) % sizes.length] = 0;
  return sizes;
}

const rng = new Random(SEED);
const plans: ConnectionPlan[] = Array.from({ length: CONNECTIONS }, () => ({ requests: planSizes(rng), responses: planSizes(rng) }));

/** Request i of connection c: stamped with a Fetch v0 header (key 1, version 0, correlation id i) when it has room. */
function requestFrame(c: number, i: number): Buffer {
  const body = payload(SEED, 2 * c, i, plans[c].requests[i]);
  if (body.length >= 8) {
    body.writeInt16BE(1, 0);
    body.writeInt16BE(0, 2);
    body.writeInt32BE(i, 4);
  }
  return frameOf(body);
}

/** Response i of connection c: its correlation id matches the request when it has room. */
function responseFrame(c: number, i: number): Buffer {
  const body = payload(SEED, 2 * c + 1, i, plans[c].responses[i]);
  if (body.length >= 4) body.writeInt32BE(i, 0);
  return frameOf(body);
}

function helloFrame(c: number): Buffer {
  const body = Buffer.alloc(4);
  body.writeUInt32BE(c, 0);
  return frameOf(body);
}

/** What went wrong, for the failure message; the first few are enough. */
const failures: string[] = [];
function fail(message: string): void {
  if (failures.length < 20) failures.push(message);
}

function compare(where: string, got: Buffer, expected: Buffer): void {
  const at = firstDifference(got, expected);
  if (at >= 0) fail(`${where}: ${got.length} bytes received, ${expected.length} expected, first difference at byte ${at}`);
}

/** Sends `message` as one WebSocket message cut into 1–4 fragments at random points. */
function sendFragmented(ws: WebSocket, message: Buffer, random: Random): void {
  const cuts = new Set<number>();
  const pieces = random.int(1, 4);
  for (let k = 1; k < pieces && message.length > 1; k++) cuts.add(random.int(1, message.length - 1));
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    ws.send(message.subarray(from, cut), { binary: true, fin: false });
    from = cut;
  }
  ws.send(message.subarray(from), { binary: true, fin: true });
}

function startBroker(): Promise<WebSocketServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 16 * MiB });
  wss.on('connection', (ws) => {
    let c = -1;
    let next = 0;
    let random: Random | null = null;
    ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) return fail('broker: a text message arrived');
      if (c < 0) {
        c = data.readUInt32BE(4);
        random = new Random(SEED ^ (c + 1) * 0x9e3779b1);
        return;
      }
      if (next >= plans[c].requests.length) return fail(`broker: connection ${c} received an extra frame of ${data.length} bytes`);
      compare(`connection ${c} request ${next} (broker side)`, data, requestFrame(c, next));
      sendFragmented(ws, responseFrame(c, next), random!);
      next++;
    });
  });
  return once(wss, 'listening').then(() => wss);
}

/** Chunk sizes for client writes: from single bytes (prefixes cut anywhere) to 2 MiB. */
function chunkSize(random: Random): number {
  const r = random.next();
  if (r < 0.15) return random.int(1, 7);
  if (r < 0.5) return random.int(8, 2 * KiB);
  if (r < 0.85) return random.int(2 * KiB, 128 * KiB);
  return random.int(128 * KiB, 2 * MiB);
}

/** Writes frames as one byte stream cut at random points, crossing frame boundaries; honours backpressure. */
async function writeChunked(socket: Socket, frames: Iterable<Buffer>, random: Random): Promise<void> {
  let carry: Buffer[] = [];
  let carried = 0;
  let want = chunkSize(random);
  const flush = async () => {
    const ok = socket.write(carry.length === 1 ? carry[0] : Buffer.concat(carry, carried));
    carry = [];
    carried = 0;
    want = chunkSize(random);
    if (!ok) await once(socket, 'drain');
    // Now and then let the event loop turn, so small writes reach the wire on their own.
    else if (random.chance(0.2)) await new Promise((r) => setImmediate(r));
  };
  for (const frame of frames) {
    for (let at = 0; at < frame.length; ) {
      const take = Math.min(want - carried, frame.length - at);
      carry.push(frame.subarray(at, at + take));
      carried += take;
      at += take;
      if (carried === want) await flush();
    }
  }
  if (carried > 0) await flush();
}

function* requestsOf(c: number): Generator<Buffer> {
  yield helloFrame(c);
  for (let i = 0; i < plans[c].requests.length; i++) yield requestFrame(c, i);
}

async function runConnection(port: number, c: number): Promise<void> {
  const socket = connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  const frames = new StreamFrames();
  const expected = plans[c].responses.length;
  let received = 0;
  const allReceived = new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) =>
      frames.push(chunk, (frame) => {
        if (received >= expected) return fail(`connection ${c}: an extra response of ${frame.length} bytes`);
        compare(`connection ${c} response ${received} (client side)`, frame, responseFrame(c, received));
        if (++received === expected) resolve();
      }),
    );
    socket.once('close', () => reject(new Error(`connection ${c} closed after ${received} of ${expected} responses`)));
    socket.on('error', () => {});
  });
  await writeChunked(socket, requestsOf(c), new Random(SEED ^ (c + 1) * 0x85ebca6b));
  await allReceived;
  // A polite end: the tunnel closes the WebSocket, then ends us; nothing more may arrive.
  const closed = once(socket, 'close');
  socket.end();
  await closed;
  if (frames.pendingBytes !== 0) fail(`connection ${c}: ${frames.pendingBytes} stray bytes after the last response`);
}

describe('stream integrity (issue #8.1)', () => {
  let broker: WebSocketServer;
  let plain: Tunnel;
  let aware: Tunnel;

  beforeAll(async () => {
    broker = await startBroker();
    const port = (broker.address() as { port: number }).port;
    plain = new Tunnel(testProfile({ id: 'plain', broker: `127.0.0.1:${port}`, kafkaAware: false }));
    const awareProfile = testProfile({ id: 'aware', broker: `127.0.0.1:${port}` });
    const { attach, ...options } = kafkaAwareTunnelOptions(awareProfile);
    aware = new Tunnel(awareProfile, options);
    attach?.(aware);
    await Promise.all([plain.start(), aware.start()]);
  });

  afterAll(async () => {
    await Promise.all([plain?.stop(), aware?.stop()]);
    for (const ws of broker?.clients ?? []) ws.terminate();
    await new Promise((resolve) => broker?.close(resolve));
  });

  it(`${CONNECTIONS} connections, random sizes and chunking: every frame once, in order, byte-identical, both ways`, async ({ onTestFailed }) => {
    onTestFailed(() => console.error(`stream integrity failed; replay with RELIABILITY_SEED=${SEED}`));
    const tunnels = [plain, aware];
    await Promise.all(plans.map((_, c) => runConnection(tunnels[c % 2].port, c)));
    expect(failures, `seed ${SEED}`).toEqual([]);

    // The tunnels' own counters agree with what was planned: no frame counted twice or missed.
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    for (const [k, tunnel] of tunnels.entries()) {
      const mine = plans.filter((_, c) => c % 2 === k);
      const snap = tunnel.snapshot();
      expect(snap.toBroker.frames, `seed ${SEED}`).toBe(sum(mine.map((p) => p.requests.length + 1)));
      expect(snap.toBroker.bytes, `seed ${SEED}`).toBe(sum(mine.map((p) => sum(p.requests) + 4 * (p.requests.length + 1) + 4)));
      expect(snap.toClient.frames, `seed ${SEED}`).toBe(sum(mine.map((p) => p.responses.length)));
      expect(snap.toClient.bytes, `seed ${SEED}`).toBe(sum(mine.map((p) => sum(p.responses) + 4 * p.responses.length)));
      const active = await settle(() => tunnel.snapshot().connections.active, (n) => n === 0);
      expect(active).toBe(0);
      expect(snap.connections.failed).toBe(0);
    }
    // The Kafka-aware tunnel really did read the traffic it passed through.
    expect(aware.snapshot().apis.find((a) => a.name === 'Fetch')?.requests).toBeGreaterThan(0);
  }, 120_000);
});
