import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKey } from '../proxy/kafka/api-keys.ts';
import { requestFrame, responseFrame } from '../proxy/kafka/test-frames.ts';
import { FrameReader, connectClient, kafkaFrame, startTestBroker } from './support/sockets.ts';
import { startCli, type RunningCli } from './support/process.ts';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function cli(args: string[]): RunningCli {
  const c = startCli(args);
  cleanups.push(() => c.stop('SIGKILL'));
  return c;
}

describe('kafka-websocket-proxy (process)', () => {
  it('is a drop-in for the original: -port and -broker forward frames, log each connection, stop on SIGTERM', async () => {
    // A broker answering each Produce v0 (acks=1) by its correlation id, as Kafka does.
    const broker = await startTestBroker({
      onMessage: (ws, data) => ws.send(responseFrame(ApiKey.Produce, 0, data.readInt32BE(8), (w) => w.writeInt32(0))),
    });
    cleanups.push(() => broker.close());
    const proxy = cli(['-port', '0', '-broker', `127.0.0.1:${broker.port}`]);
    const [, port] = await proxy.waitFor(/Kafka bootstrap address: localhost:(\d+)/);

    const socket = await connectClient(Number(port));
    const reader = new FrameReader(socket);
    const requests = Array.from({ length: 50 }, (_, i) => requestFrame(ApiKey.Produce, 0, i + 1, (w) => w.writeInt16(1).writeInt32(1000).writeInt32(0)));
    socket.write(Buffer.concat(requests));
    const responses = await reader.waitFor(50);
    expect(responses.map((f) => f.readInt32BE(4))).toEqual(requests.map((_, i) => i + 1));
    expect(broker.received).toEqual(requests);
    socket.end();
    await proxy.waitFor(/Connection 1 from 127\.0\.0\.1:\d+ closed: Client closed its side/);
    expect(proxy.stderr()).toMatch(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d Connection 1 from 127\.0\.0\.1:\d+$/m);

    expect(await proxy.stop('SIGTERM')).toBe(0);
    expect(proxy.stderr()).toMatch(/SIGTERM: stopping the tunnel/);
  });

  it('logs why a client was disconnected for an oversized frame, and keeps serving', async () => {
    const broker = await startTestBroker();
    cleanups.push(() => broker.close());
    const proxy = cli(['-port', '0', '-broker', `127.0.0.1:${broker.port}`, '--max-frame-bytes', '4096']);
    const [, port] = await proxy.waitFor(/localhost:(\d+)/);
    const bad = await connectClient(Number(port));
    bad.write(Buffer.from([0, 1, 0, 0]));
    await proxy.waitFor(/ERROR: Connection 1 from .* closed: Client sent a 64\.0 KiB frame, above the 4\.0 KiB limit; connection closed/);
    const good = await connectClient(Number(port));
    const reader = new FrameReader(good);
    good.write(kafkaFrame('fine'));
    expect(await reader.waitFor(1)).toEqual([kafkaFrame('fine')]);
    good.destroy();
  });

  it('runs every profile of a --config file', async () => {
    const broker = await startTestBroker();
    cleanups.push(() => broker.close());
    const dir = mkdtempSync(join(tmpdir(), 'kws-cli-'));
    const file = join(dir, 'profiles.json');
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        profiles: [
          { id: 'one', name: 'One', broker: `127.0.0.1:${broker.port}`, listenPort: 0 },
          { id: 'two', name: 'Two', broker: `ws://127.0.0.1:${broker.port}/two`, listenPort: 0 },
        ],
      }),
    );
    const proxy = cli(['--config', file]);
    await proxy.waitFor(/Two: Kafka bootstrap address/);
    expect(proxy.stdout()).toMatch(/One: Kafka bootstrap address: localhost:\d+/);
  });

  it('refuses an invalid profiles file with the field that is wrong', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kws-cli-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ version: 1, profiles: [{ id: 'x', name: 'X', broker: 'not a broker', listenPort: 99999 }] }));
    const proxy = cli(['--config', file]);
    expect(await proxy.exited).toBe(2);
    expect(proxy.stderr()).toMatch(/profiles\.0\.broker: Broker must be host:port/);
    expect(proxy.stderr()).toMatch(/profiles\.0\.listenPort: Port must be 0–65535/);
  });
});
