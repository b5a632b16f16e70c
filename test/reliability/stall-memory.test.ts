import { once } from 'node:events';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { Tunnel } from '../../proxy/tunnel.ts';
import { connectClient, numberedFrame, testProfile } from '../support/sockets.ts';
import { collectGarbage, settle } from './harness.ts';

/**
 * Issue #8.2, "broker stalls": proxy/backpressure.test.ts proves the tunnel stops
 * accepting bytes; this proves the process's memory stays flat while a client
 * keeps offering far more than any buffer should hold. The client here honours
 * backpressure itself, so whatever memory grows belongs to the tunnel.
 */

const MiB = 1024 * 1024;
const FRAME_BYTES = MiB;
const OFFERED_FRAMES = 256;
/**
 * What the stalled pipeline may hold in memory: the bridge's 4 MiB send
 * high-water mark plus the frame that crossed it, the splitter's partial frame,
 * ws's queue, and a few frames of slack for buffers the GC has not reclaimed yet.
 * Generous on purpose; unbounded buffering would reach the 256 MiB offered.
 */
const MEMORY_BOUND = 32 * MiB;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function numbered(i: number): Buffer {
  return numberedFrame(i, FRAME_BYTES);
}

/** Writes frames one at a time, waiting for 'drain' whenever the socket asks to. */
async function pump(socket: Socket, progress: { written: number }): Promise<void> {
  for (let i = 0; i < OFFERED_FRAMES; i++) {
    const ok = socket.write(numbered(i));
    progress.written = i + 1;
    if (!ok) await once(socket, 'drain');
  }
}

function arrayBuffersAfterGc(): number {
  collectGarbage();
  return process.memoryUsage().arrayBuffers;
}

describe('broker stall (issue #8.2)', () => {
  it('memory stays flat while a stalled broker holds up a client offering 256 MiB; then every frame arrives in order', async () => {
    const received: number[] = [];
    let brokerSocket: Socket | null = null;
    const broker = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 8 * MiB });
    await once(broker, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => broker.close(() => resolve())));
    broker.on('connection', (ws, req) => {
      // Stall: stop reading from the tunnel at the TCP level.
      brokerSocket = req.socket as Socket;
      brokerSocket.pause();
      ws.on('message', (data: Buffer) => void received.push(data.readUInt32BE(4)));
      cleanups.push(() => ws.terminate());
    });
    const port = (broker.address() as { port: number }).port;
    const tunnel = new Tunnel(testProfile({ broker: `127.0.0.1:${port}` }));
    await tunnel.start();
    cleanups.push(() => tunnel.stop());

    const before = arrayBuffersAfterGc();
    const client = await connectClient(tunnel.port);
    cleanups.push(() => void client.destroy());
    const progress = { written: 0 };
    const pumping = pump(client, progress);

    // Wait until nothing moves any more: the client is blocked on 'drain'.
    await settle(
      () => `${progress.written}/${tunnel.snapshot().toBroker.bytes}`,
      (() => {
        let last = '';
        let same = 0;
        return (now: string) => ((same = now === last ? same + 1 : 0), (last = now), same >= 8);
      })(),
      { rounds: 400, intervalMs: 50 },
    );
    const held = arrayBuffersAfterGc() - before;
    expect(progress.written).toBeLessThan(OFFERED_FRAMES / 4);
    expect(held).toBeLessThan(MEMORY_BOUND);

    brokerSocket!.resume();
    await pumping;
    await settle(() => received.length, (n) => n === OFFERED_FRAMES, { rounds: 2000 });
    expect(received).toEqual([...Array(OFFERED_FRAMES).keys()]);
  }, 60_000);
});
