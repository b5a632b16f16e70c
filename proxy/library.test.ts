import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, kafkajsSocketFactory } from './library.ts';
import { createDuplexPair } from './duplex-pair.ts';
import { FrameReader, kafkaFrame, startTestBroker } from '../test/support/sockets.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('createDuplexPair', () => {
  it('carries bytes both ways and ends each side', async () => {
    const [a, b] = createDuplexPair();
    const got: Buffer[] = [];
    b.on('data', (d: Buffer) => got.push(d));
    a.end(Buffer.from('hi'));
    await once(b, 'end');
    expect(Buffer.concat(got).toString()).toBe('hi');
  });

  it('holds a write until the reader makes room', async () => {
    const [a, b] = createDuplexPair();
    b.pause();
    const big = Buffer.alloc(1024 * 1024);
    let done = 0;
    for (let i = 0; i < 4; i++) a.write(big, () => done++);
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBeLessThan(4);
    b.resume();
    b.on('data', () => {});
    while (done < 4) await new Promise((r) => setTimeout(r, 5));
    expect(done).toBe(4);
  });
});

describe('library connect()', () => {
  it('speaks Kafka framing over WebSocket in-process, emits connect, sends headers', async () => {
    const broker = await startTestBroker();
    cleanups.push(() => broker.close());
    let connected = false;
    const socket = connect({ broker: `127.0.0.1:${broker.port}`, headers: { Authorization: 'Bearer lib' } }, () => (connected = true));
    cleanups.push(() => void socket.destroy());
    const reader = new FrameReader(socket as unknown as import('node:net').Socket);
    await once(socket, 'connect');
    expect(connected).toBe(true);
    const frames = [kafkaFrame('a'), kafkaFrame(Buffer.alloc(200_000, 1)), kafkaFrame('c')];
    socket.write(Buffer.concat(frames).subarray(0, 100));
    socket.write(Buffer.concat(frames).subarray(100));
    expect(await reader.waitFor(3)).toEqual(frames);
    expect(broker.received).toEqual(frames);
    expect(broker.requests[0].headers.authorization).toBe('Bearer lib');
  });

  it('destroys the stream with a coded error when the broker is unreachable', async () => {
    const broker = await startTestBroker({ rejectStatus: 403 });
    cleanups.push(() => broker.close());
    const socket = connect({ broker: broker.url });
    const [err] = (await once(socket, 'error')) as [Error & { code: string }];
    expect(err.code).toBe('BROKER_HANDSHAKE_REJECTED');
    expect(err.message).toMatch(/HTTP 403/);
  });

  it('refuses bad options when the factory is configured, not at first use', () => {
    expect(() => kafkajsSocketFactory({ broker: 'not a broker' })).toThrow(/Invalid Kafka WebSocket options: broker: Broker must be host:port/);
  });

  it('closes the WebSocket when the caller ends the stream', async () => {
    const broker = await startTestBroker();
    cleanups.push(() => broker.close());
    const socket = connect({ broker: broker.url });
    await once(socket, 'connect');
    socket.write(kafkaFrame('bye'));
    while (broker.connections.length === 0) await new Promise((r) => setTimeout(r, 5));
    const closed = once(broker.connections[0], 'close');
    socket.end();
    const [code] = await closed;
    expect(code).toBe(1000);
  });
});
