import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FramePool, FrameScanner, produceRequest, produceResponse } from './frames.ts';
import { FloodLoad, runLoad } from './load.ts';

/** A TCP responder in this process: answers each request with `answer(correlationId)`. */
async function server(answer: (correlationId: number) => Buffer | null): Promise<{ port: number; server: Server; received: () => number }> {
  let received = 0;
  const s = createServer((socket: Socket) => {
    const scanner = new FrameScanner({ maxFrameBytes: 1 << 30 });
    socket.on('data', (chunk: Buffer) =>
      scanner.push(chunk, (head) => {
        received++;
        const frame = answer(head.readInt32BE(8));
        if (frame) socket.write(frame);
      }),
    );
    socket.on('error', () => {});
  });
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  servers.push(s);
  return { port: (s.address() as { port: number }).port, server: s, received: () => received };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

const responses = new FramePool(produceResponse(64));

describe('runLoad', () => {
  it('keeps every connection busy and counts only the round trips inside the window', async () => {
    const { port, received } = await server((id) => responses.take(id));
    const result = await runLoad({ port, connections: 3, inFlight: 4, request: produceRequest(64), responseBytes: 64, warmupMs: 50, durationMs: 300 });
    expect(result.frames).toBeGreaterThan(0);
    // Warm-up and drain answers are not counted; every counted one was received.
    expect(result.frames).toBeLessThanOrEqual(received());
    expect(result.bytes).toBe(result.frames * 128);
    expect(result.framesPerSec).toBeCloseTo(result.frames / result.seconds);
    expect(result.p50us).toBeLessThanOrEqual(result.p99us);
  });

  it('fails when an answer has the wrong size, naming the connection', async () => {
    const short = new FramePool(produceResponse(40));
    const { port } = await server((id) => short.take(id));
    await expect(runLoad({ port, connections: 1, inFlight: 1, request: produceRequest(64), responseBytes: 64, warmupMs: 50, durationMs: 200 })).rejects.toThrow(
      /Connection 1: an answer was 40 bytes; 64 were sent/,
    );
  });

  it('fails when an answer carries a correlation id nobody asked for', async () => {
    const { port } = await server((id) => responses.take(id + 1000));
    await expect(runLoad({ port, connections: 1, inFlight: 1, request: produceRequest(64), responseBytes: 64, warmupMs: 50, durationMs: 200 })).rejects.toThrow(
      /correlation id 1001, which no outstanding request has/,
    );
  });

  it('fails when answers stop coming and the peer closes', async () => {
    let answered = 0;
    const { server: s, port } = await server((id) => (answered++ < 5 ? responses.take(id) : null));
    s.on('connection', (socket) => setTimeout(() => socket.destroy(), 100));
    await expect(runLoad({ port, connections: 1, inFlight: 2, request: produceRequest(64), responseBytes: 64, warmupMs: 50, durationMs: 5000 })).rejects.toThrow(
      /closed with \d+ answers outstanding/,
    );
  });
});

describe('FloodLoad', () => {
  it('writes without waiting for answers, then collects every answer on stop', async () => {
    const { port, received } = await server((id) => responses.take(id));
    const flood = await FloodLoad.start({ port, connections: 2, request: produceRequest(4096) });
    while (flood.answers < 100) await new Promise((r) => setTimeout(r, 10));
    await flood.stop();
    expect(flood.answers).toBe(received());
    expect(flood.acceptedBytes).toBeGreaterThanOrEqual(100 * 4096);
  });
});
