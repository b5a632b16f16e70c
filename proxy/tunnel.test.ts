import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { TunnelEvent } from '../shared/stats.ts';
import { Tunnel } from './tunnel.ts';
import { FrameReader, connectClient, kafkaFrame, startTestBroker, testProfile, waitForEvent, type TestBroker } from '../test/support/sockets.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(brokerOptions: Parameters<typeof startTestBroker>[0] = {}, profile: Parameters<typeof testProfile>[0] = {}) {
  const broker = await startTestBroker(brokerOptions);
  cleanups.push(() => broker.close());
  const tunnel = new Tunnel(testProfile({ broker: `127.0.0.1:${broker.port}`, ...profile }));
  const events: TunnelEvent[] = [];
  tunnel.on('event', (e) => events.push(e));
  await tunnel.start();
  cleanups.push(() => tunnel.stop());
  return { broker, tunnel, events };
}

async function client(tunnel: Tunnel) {
  const socket = await connectClient(tunnel.port);
  cleanups.push(() => void socket.destroy());
  return { socket, reader: new FrameReader(socket) };
}

function closedEvent(tunnel: Tunnel) {
  return waitForEvent<TunnelEvent>(tunnel, (e) => e.kind === 'connection-closed');
}

describe('Tunnel forwarding', () => {
  it('sends each client frame as one binary message and returns broker messages unchanged, in order', async () => {
    const { broker, tunnel } = await setup();
    const { socket, reader } = await client(tunnel);
    const frames = [kafkaFrame('one'), kafkaFrame([]), kafkaFrame(Buffer.alloc(70_000, 3)), kafkaFrame('four')];
    socket.write(Buffer.concat(frames));
    const echoed = await reader.waitFor(4);
    expect(broker.received).toEqual(frames);
    expect(echoed).toEqual(frames);
    const snap = tunnel.snapshot();
    expect(snap.toBroker.frames).toBe(4);
    expect(snap.toClient.bytes).toBe(frames.reduce((n, f) => n + f.length, 0));
    expect(snap.connections).toMatchObject({ active: 1, total: 1 });
    expect(snap.connectionList[0].toBroker.frames).toBe(4);
  });

  it('reassembles frames written one byte at a time', async () => {
    const { broker, tunnel } = await setup();
    const { socket, reader } = await client(tunnel);
    const frames = [kafkaFrame('abc'), kafkaFrame('defgh')];
    for (const byte of Buffer.concat(frames)) {
      socket.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    await reader.waitFor(2);
    expect(broker.received).toEqual(frames);
  });

  it('holds frames sent while the WebSocket connects and flushes them in order', async () => {
    const { broker, tunnel } = await setup({ upgradeDelayMs: 150 });
    const { socket, reader } = await client(tunnel);
    const frames = Array.from({ length: 20 }, (_, i) => kafkaFrame(`m${i}`));
    for (const f of frames) socket.write(f);
    await reader.waitFor(20);
    expect(broker.received).toEqual(frames);
  });

  it('sends the profile headers on the upgrade request', async () => {
    const { broker, tunnel } = await setup({}, { headers: [{ name: 'Authorization', value: 'Bearer t0k', secret: true }, { name: 'CF-Access-Client-Id', value: 'abc' }] });
    const { socket, reader } = await client(tunnel);
    socket.write(kafkaFrame('x'));
    await reader.waitFor(1);
    expect(broker.requests[0].headers.authorization).toBe('Bearer t0k');
    expect(broker.requests[0].headers['cf-access-client-id']).toBe('abc');
  });

  it('dials the path and query of a full ws:// URL', async () => {
    const broker = await startTestBroker();
    cleanups.push(() => broker.close());
    const tunnel = new Tunnel(testProfile({ broker: `ws://127.0.0.1:${broker.port}/kafka?cluster=a` }));
    await tunnel.start();
    cleanups.push(() => tunnel.stop());
    const { socket, reader } = await client(tunnel);
    socket.write(kafkaFrame('x'));
    await reader.waitFor(1);
    expect(broker.requests[0].url).toBe('/kafka?cluster=a');
    expect(tunnel.snapshot().brokerUrl).toBe(`ws://127.0.0.1:${broker.port}/kafka`);
  });
});

describe('Tunnel bad input', () => {
  it.each([
    ['oversized', 2_000_000, 'FRAME_TOO_LARGE'],
    ['negative', -5, 'FRAME_NEGATIVE_SIZE'],
  ])('disconnects a client sending a %s size and keeps serving others', async (_label, size, code) => {
    const { tunnel } = await setup({}, { maxFrameBytes: 1024 * 1024 });
    const bad = await client(tunnel);
    const closed = closedEvent(tunnel);
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(size, 0);
    bad.socket.write(prefix);
    const event = await closed;
    expect(event.code).toBe(code);
    expect(event.level).toBe('error');
    expect(event.message).toMatch(size < 0 ? /negative size/ : /above the 1\.0 MiB limit/);
    await bad.reader.waitForEnd();
    const good = await client(tunnel);
    good.socket.write(kafkaFrame('still here'));
    expect(await good.reader.waitFor(1)).toEqual([kafkaFrame('still here')]);
  });

  it('closes the connection when the broker sends a text message', async () => {
    const { tunnel } = await setup({ onMessage: (ws) => ws.send('hello', { binary: false }) });
    const { socket, reader } = await client(tunnel);
    const closed = closedEvent(tunnel);
    socket.write(kafkaFrame('x'));
    expect((await closed).code).toBe('BROKER_TEXT_MESSAGE');
    await reader.waitForEnd();
  });

  it.each([
    ['an empty message', Buffer.alloc(0)],
    ['a size prefix that disagrees with the length', Buffer.from([0, 0, 0, 9, 1, 2])],
  ])('closes the connection when the broker sends %s', async (_label, message) => {
    const { tunnel } = await setup({ onMessage: (ws) => ws.send(message) });
    const { socket, reader } = await client(tunnel);
    const closed = closedEvent(tunnel);
    socket.write(kafkaFrame('x'));
    const event = await closed;
    expect(event.code).toBe('BROKER_BAD_FRAME');
    expect(event.message).toMatch(/one whole Kafka frame/);
    await reader.waitForEnd();
  });

  it('ends the client when the broker closes, after delivering what it sent', async () => {
    const { tunnel } = await setup({ onMessage: (ws, data) => { ws.send(data); ws.close(1001, 'going away'); } });
    const { socket, reader } = await client(tunnel);
    const closed = closedEvent(tunnel);
    socket.write(kafkaFrame('last words'));
    await reader.waitForEnd();
    expect(reader.frames).toEqual([kafkaFrame('last words')]);
    expect((await closed).message).toMatch(/Broker closed the connection \(code 1001: going away\)/);
  });

  it('ends the client when the broker connection drops mid-message', async () => {
    const { tunnel } = await setup({
      onMessage: (ws) => {
        // Half of a WebSocket frame, then the TCP connection goes away.
        const raw = (ws as unknown as { _socket: import('node:net').Socket })._socket;
        raw.write(Buffer.from([0x82, 0x7e, 0x01, 0x00, 0, 0, 0, 252, 1, 2, 3]));
        raw.destroy();
      },
    });
    const { socket, reader } = await client(tunnel);
    const closed = closedEvent(tunnel);
    socket.write(kafkaFrame('x'));
    expect((await closed).message).toMatch(/dropped without a WebSocket close/);
    await reader.waitForEnd();
    expect(reader.frames).toEqual([]);
  });

  it('reports a client that disconnects mid-frame and closes the WebSocket', async () => {
    const { broker, tunnel } = await setup();
    const { socket } = await client(tunnel);
    socket.write(kafkaFrame('whole'));
    await new Promise((r) => setTimeout(r, 50));
    const closed = closedEvent(tunnel);
    const brokerClosed = new Promise<number>((resolve) => broker.connections[0].once('close', (code) => resolve(code)));
    socket.end(kafkaFrame('partial frame').subarray(0, 9));
    const event = await closed;
    expect(event.message).toMatch(/middle of a frame \(9 of 17 bytes received/);
    expect(await brokerClosed).toBe(1000);
    expect(broker.received).toEqual([kafkaFrame('whole')]);
  });
});

describe('Tunnel broker availability', () => {
  it('retries a broker that is down, then closes the client and says why', async () => {
    const dead = createServer().listen(0, '127.0.0.1');
    await once(dead, 'listening');
    const port = (dead.address() as { port: number }).port;
    dead.close();
    const tunnel = new Tunnel(testProfile({ broker: `127.0.0.1:${port}`, connectRetries: 3, retryDelayMs: 5 }));
    const events: TunnelEvent[] = [];
    tunnel.on('event', (e) => events.push(e));
    await tunnel.start();
    cleanups.push(() => tunnel.stop());
    const { socket, reader } = await client(tunnel);
    socket.write(kafkaFrame('x'));
    await reader.waitForEnd();
    await new Promise((r) => setImmediate(r));
    expect(events.filter((e) => e.kind === 'broker-retry')).toHaveLength(2);
    const closed = events.find((e) => e.kind === 'connection-closed');
    expect(closed?.code).toBe('BROKER_UNREACHABLE');
    expect(closed?.message).toMatch(/refused the connection .*gave up after 3 tries/);
    expect(tunnel.snapshot().connections.failed).toBe(1);
  });

  it('does not retry an upgrade refused with 401 and names the status', async () => {
    const { tunnel, events } = await setup({ rejectStatus: 401 });
    const { socket, reader } = await client(tunnel);
    socket.write(kafkaFrame('x'));
    await reader.waitForEnd();
    await new Promise((r) => setImmediate(r));
    expect(events.some((e) => e.kind === 'broker-retry')).toBe(false);
    const closed = events.find((e) => e.kind === 'connection-closed');
    expect(closed?.code).toBe('BROKER_HANDSHAKE_REJECTED');
    expect(closed?.message).toMatch(/HTTP 401 \(check the credentials/);
  });

  it('closes a connection whose broker stops answering keepalive pings', async () => {
    const { tunnel } = await setup({ autoPong: false, onMessage: () => {} }, { keepaliveMs: 100 });
    const { socket, reader } = await client(tunnel);
    const closed = closedEvent(tunnel);
    socket.write(kafkaFrame('x'));
    expect((await closed).code).toBe('BROKER_KEEPALIVE_TIMEOUT');
    await reader.waitForEnd();
  });
});

describe('Tunnel lifecycle', () => {
  it('turns a taken port into a sentence', async () => {
    const squatter = createServer().listen(0, '127.0.0.1');
    await once(squatter, 'listening');
    cleanups.push(() => void squatter.close());
    const port = (squatter.address() as { port: number }).port;
    const tunnel = new Tunnel(testProfile({ listenPort: port }));
    await expect(tunnel.start()).rejects.toMatchObject({ code: 'PORT_IN_USE', message: expect.stringContaining(`Port ${port} on 127.0.0.1 is already in use`) });
    expect(tunnel.snapshot()).toMatchObject({ state: 'error', error: { code: 'PORT_IN_USE' } });
  });

  it('stop closes live connections and frees the port', async () => {
    const { tunnel } = await setup();
    const { socket, reader } = await client(tunnel);
    socket.write(kafkaFrame('x'));
    await reader.waitFor(1);
    const port = tunnel.port;
    await tunnel.stop();
    await reader.waitForEnd();
    const again = createServer().listen(port, '127.0.0.1');
    await once(again, 'listening');
    again.close();
    expect(tunnel.snapshot().state).toBe('stopped');
  });

  it('warns when listening beyond loopback', async () => {
    const { events } = await setup({}, { listenHost: '0.0.0.0' });
    expect(events.find((e) => e.code === 'NON_LOOPBACK_BIND')?.message).toMatch(/other computers on the network can reach/);
  });
});
