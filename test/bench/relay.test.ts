import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameScanner, produceRequest } from './frames.ts';
import { connectTo } from './load.ts';
import { RelayProcess } from './relay-process.ts';
import { Responder } from './responder.ts';

let responder: Responder;
let relay: RelayProcess;
beforeAll(async () => {
  responder = await Responder.start();
  relay = await RelayProcess.start({ targetPort: responder.tcpPort });
});
afterAll(async () => {
  await relay?.stop();
  await responder?.close();
});

function request(correlationId: number, bytes = 64): Buffer {
  const frame = Buffer.from(produceRequest(bytes).frame);
  frame.writeInt32BE(correlationId, 8);
  return frame;
}

/** Collects answers (correlation id and size) from a TCP socket. */
function answers(socket: Socket): { id: number; size: number }[] {
  const seen: { id: number; size: number }[] = [];
  const scanner = new FrameScanner({ maxFrameBytes: 1 << 30 });
  socket.on('data', (chunk: Buffer) => scanner.push(chunk, (head, size) => seen.push({ id: head.readInt32BE(4), size })));
  return seen;
}

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 10));
}

describe('the relay process', () => {
  it('carries frames both ways, whole, in order, each on its own connection to the responder', async () => {
    await responder.configure(2 * 1024 * 1024);
    const sockets = [await connectTo(relay.port), await connectTo(relay.port)];
    const seen = sockets.map(answers);
    // Several MiB each way: more than any socket buffer, so the pipes must pause and resume.
    sockets[0].write(Buffer.concat([request(1, 3 * 1024 * 1024), request(2), request(3, 1024 * 1024)]));
    sockets[1].write(request(7));
    await until(() => seen[0].length === 3 && seen[1].length === 1);
    expect(seen[0]).toEqual([
      { id: 1, size: 2 * 1024 * 1024 },
      { id: 2, size: 2 * 1024 * 1024 },
      { id: 3, size: 2 * 1024 * 1024 },
    ]);
    expect(seen[1]).toEqual([{ id: 7, size: 2 * 1024 * 1024 }]);
    expect((await responder.status()).tcp).toBe(2);

    for (const socket of sockets) socket.destroy();
    await until(async () => (await responder.status()).tcp === 0);
  });

  it('stops when the parent lets go, and its port closes', async () => {
    const other = await RelayProcess.start({ targetPort: responder.tcpPort });
    expect(other.pid).toBeGreaterThan(0);
    await other.stop();
    await expect(connectTo(other.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
