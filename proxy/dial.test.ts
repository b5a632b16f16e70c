import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TunnelEvent } from '../shared/stats.ts';
import { Tunnel } from './tunnel.ts';
import { FrameReader, connectClient, kafkaFrame, startTestBroker, testProfile, waitForEvent } from '../test/support/sockets.ts';
import { makeTestPki, type TestPki } from '../test/support/tls.ts';

let pki: TestPki;
beforeAll(() => {
  pki = makeTestPki();
});
afterAll(() => pki.cleanup());

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function roundTrip(tunnel: Tunnel): Promise<{ frames: Buffer[]; ended: boolean }> {
  const socket = await connectClient(tunnel.port);
  cleanups.push(() => void socket.destroy());
  const reader = new FrameReader(socket);
  socket.write(kafkaFrame('over tls'));
  await Promise.race([reader.waitFor(1), reader.waitForEnd()]);
  return { frames: reader.frames, ended: reader.ended };
}

describe('TLS to the broker', () => {
  it('connects to a wss:// broker signed by a CA given in the profile (-tls with host:port)', async () => {
    const broker = await startTestBroker({ tls: { key: pki.key, cert: pki.cert } });
    cleanups.push(() => broker.close());
    const tunnel = new Tunnel(testProfile({ broker: `localhost:${broker.port}`, tls: true, caFile: pki.caFile }));
    await tunnel.start();
    cleanups.push(() => tunnel.stop());
    expect((await roundTrip(tunnel)).frames).toEqual([kafkaFrame('over tls')]);
    expect(tunnel.snapshot().brokerUrl).toBe(`wss://localhost:${broker.port}/`);
  });

  it('refuses an untrusted certificate by default, without retrying, and says TLS failed', async () => {
    const broker = await startTestBroker({ tls: { key: pki.key, cert: pki.cert } });
    cleanups.push(() => broker.close());
    const tunnel = new Tunnel(testProfile({ broker: `wss://localhost:${broker.port}/` }));
    const events: TunnelEvent[] = [];
    tunnel.on('event', (e) => events.push(e));
    await tunnel.start();
    cleanups.push(() => tunnel.stop());
    const closed = waitForEvent<TunnelEvent>(tunnel, (e) => e.kind === 'connection-closed');
    expect((await roundTrip(tunnel)).ended).toBe(true);
    const event = await closed;
    expect(event.code).toBe('BROKER_TLS');
    expect(event.message).toMatch(/TLS with wss:\/\/localhost:\d+\/ failed/);
    expect(events.some((e) => e.kind === 'broker-retry')).toBe(false);
  });

  it('connects to an untrusted certificate only with the explicit insecure opt-out', async () => {
    const broker = await startTestBroker({ tls: { key: pki.key, cert: pki.cert } });
    cleanups.push(() => broker.close());
    const tunnel = new Tunnel(testProfile({ broker: `wss://localhost:${broker.port}/`, tlsVerify: false }));
    await tunnel.start();
    cleanups.push(() => tunnel.stop());
    expect((await roundTrip(tunnel)).frames).toEqual([kafkaFrame('over tls')]);
  });

  it('fails to start with a sentence when the CA file cannot be read', async () => {
    const tunnel = new Tunnel(testProfile({ caFile: '/nonexistent/ca.pem' }));
    await expect(tunnel.start()).rejects.toMatchObject({ code: 'INVALID_PROFILE', message: expect.stringMatching(/Cannot read the CA file \/nonexistent\/ca.pem/) });
  });
});

describe('outbound HTTP proxy', () => {
  it('tunnels through an HTTP CONNECT proxy named in the profile', async () => {
    const broker = await startTestBroker();
    cleanups.push(() => broker.close());
    const connects: string[] = [];
    const proxy = createServer();
    proxy.on('connect', (req: IncomingMessage, clientSocket: Socket, head: Buffer) => {
      connects.push(req.url ?? '');
      const [host, port] = (req.url ?? '').split(':');
      const upstream = connect(Number(port), host, () => {
        clientSocket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(clientSocket);
        clientSocket.pipe(upstream);
      });
      upstream.on('error', () => clientSocket.destroy());
      clientSocket.on('error', () => upstream.destroy());
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    cleanups.push(() => {
      proxy.closeAllConnections();
      proxy.close();
    });
    const proxyPort = (proxy.address() as { port: number }).port;
    const tunnel = new Tunnel(testProfile({ broker: `127.0.0.1:${broker.port}`, httpProxy: `http://127.0.0.1:${proxyPort}` }));
    await tunnel.start();
    cleanups.push(() => tunnel.stop());
    expect((await roundTrip(tunnel)).frames).toEqual([kafkaFrame('over tls')]);
    expect(connects).toEqual([`127.0.0.1:${broker.port}`]);
  });
});
