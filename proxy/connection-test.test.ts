import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { profileSchema } from '../shared/profile.ts';
import { testConnection, testProfileConnection } from './connection-test.ts';
import { ApiKey } from './kafka/api-keys.ts';
import { encodeApiVersionsResponse } from './kafka/api-versions-response.ts';
import { decodeRequestHeader, encodeResponseHeader, frameReader, responseHeaderVersion } from './kafka/headers.ts';
import { decodeMetadataRequest } from './kafka/metadata-request.ts';
import { encodeMetadataResponse, type MetadataResponse } from './kafka/metadata-response.ts';
import { Writer } from './kafka/writer.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const METADATA: MetadataResponse = {
  brokers: [{ nodeId: 0, host: 'broker.internal', port: 9092 }],
  topics: [
    { errorCode: 0, name: 'orders', partitions: [0, 1, 2].map((i) => ({ errorCode: 0, partitionIndex: i, leaderId: 0, replicaNodes: [0], isrNodes: [0] })) },
  ],
};

interface FakeBroker {
  url: string;
  /** Metadata versions requested, in order. */
  metadataVersions: number[];
  headers: Record<string, string | string[] | undefined>[];
}

/** A WebSocket server on 127.0.0.1:0 speaking a little Kafka, one frame per message. */
async function fakeBroker(options: {
  apiVersions?: { min: number; max: number } | 'silent';
  metadata?: 'answer' | 'garbage' | 'close';
  requireToken?: string;
}): Promise<FakeBroker> {
  const broker: FakeBroker = { url: '', metadataVersions: [], headers: [] };
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: options.requireToken
      ? (info, done) => done(info.req.headers.authorization === `Bearer ${options.requireToken}`, 401, 'Unauthorized')
      : undefined,
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  wss.on('connection', (ws: WebSocket, req) => {
    broker.headers.push(req.headers);
    ws.on('message', (data: Buffer) => {
      const r = frameReader(data);
      const header = decodeRequestHeader(r);
      const reply = (version: number, body: (w: Writer) => void) => {
        const w = new Writer();
        encodeResponseHeader({ correlationId: header.correlationId }, w, responseHeaderVersion(header.apiKey, version) ?? 0);
        body(w);
        ws.send(w.toFrame());
      };
      if (header.apiKey === ApiKey.ApiVersions) {
        const range = options.apiVersions ?? 'silent';
        if (range === 'silent') return;
        reply(0, (w) =>
          encodeApiVersionsResponse(0, { errorCode: 0, apiKeys: [{ apiKey: ApiKey.Metadata, minVersion: range.min, maxVersion: range.max }] }, w),
        );
      } else if (header.apiKey === ApiKey.Metadata) {
        broker.metadataVersions.push(header.apiVersion);
        decodeMetadataRequest(header.apiVersion, r);
        if (options.metadata === 'close') ws.close(1011, 'no metadata today');
        else if (options.metadata === 'garbage') reply(header.apiVersion, (w) => w.writeInt32(7));
        else reply(header.apiVersion, (w) => encodeMetadataResponse(header.apiVersion, METADATA, w));
      }
    });
  });
  broker.url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/kafka`;
  cleanups.push(
    () =>
      new Promise((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  );
  return broker;
}

/** A plain TCP server that reads and discards (so it sees the client hang up). */
async function tcpServer(onSocket: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.resume();
    onSocket(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  });
  return { server, port: (server.address() as AddressInfo).port };
}

describe('testConnection', () => {
  it('reports handshake, API versions, brokers and topics from a modern broker', async () => {
    const broker = await fakeBroker({ apiVersions: { min: 0, max: 13 }, metadata: 'answer' });
    const result = await testConnection(broker.url, { headers: { 'X-Test': 'yes' } });
    expect(result.failure).toBeNull();
    expect(result.ok).toBe(true);
    expect(result.url).toBe(broker.url);
    expect(result.handshakeMs).toBeGreaterThanOrEqual(0);
    expect(result.apiVersions).toEqual([{ apiKey: ApiKey.Metadata, name: 'Metadata', minVersion: 0, maxVersion: 13 }]);
    // The newest Metadata both sides read.
    expect(broker.metadataVersions).toEqual([12]);
    expect(result.brokers).toEqual([{ nodeId: 0, host: 'broker.internal', port: 9092 }]);
    expect(result.topics).toEqual([{ name: 'orders', partitions: 3, errorCode: 0 }]);
    expect(broker.headers[0]['x-test']).toBe('yes');
  });

  it('accepts a 0.8-era broker that ignores ApiVersions and asks Metadata v0', async () => {
    const broker = await fakeBroker({ apiVersions: 'silent', metadata: 'answer' });
    const result = await testConnection(broker.url, { apiVersionsWaitMs: 100 });
    expect(result.ok).toBe(true);
    expect(result.apiVersions).toBeNull();
    expect(broker.metadataVersions).toEqual([0]);
    expect(result.topics).toHaveLength(1);
  });

  it('reports a refused upgrade as an http failure with its status', async () => {
    const broker = await fakeBroker({ requireToken: 'secret' });
    const refused = await testConnection(broker.url, { headers: { Authorization: 'Bearer wrong' } });
    expect(refused.ok).toBe(false);
    expect(refused.failure).toMatchObject({ stage: 'http', httpStatus: 401 });
    expect(refused.failure?.message).toMatch(/HTTP 401/);
  });

  it('reports a refused TCP connection', async () => {
    const { server, port } = await tcpServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const result = await testConnection(`ws://127.0.0.1:${port}/`);
    expect(result.failure).toMatchObject({ stage: 'tcp' });
    expect(result.failure?.message).toMatch(/refused/);
  });

  it('reports a handshake that never completes as a timeout', async () => {
    const { port } = await tcpServer(() => {});
    const result = await testConnection(`ws://127.0.0.1:${port}/`, { timeoutMs: 300 });
    expect(result.failure).toMatchObject({ stage: 'timeout' });
    expect(result.handshakeMs).toBeNull();
  });

  it('reports TLS trouble when wss:// meets a plain server', async () => {
    const broker = await fakeBroker({});
    const result = await testConnection(broker.url.replace('ws://', 'wss://'));
    expect(result.failure).toMatchObject({ stage: 'tls' });
  });

  it('reports an unreadable Metadata answer as a protocol failure', async () => {
    const broker = await fakeBroker({ apiVersions: { min: 0, max: 1 }, metadata: 'garbage' });
    const result = await testConnection(broker.url);
    expect(result.ok).toBe(false);
    expect(result.apiVersions).not.toBeNull();
    expect(result.failure).toMatchObject({ stage: 'protocol' });
    expect(result.failure?.message).toMatch(/Metadata answer is not valid Kafka/);
  });

  it('reports the broker closing before it answers', async () => {
    const broker = await fakeBroker({ apiVersions: 'silent', metadata: 'close' });
    const result = await testConnection(broker.url, { apiVersionsWaitMs: 50 });
    expect(result.failure).toMatchObject({ stage: 'protocol' });
    expect(result.failure?.message).toContain('code 1011: no metadata today');
  });

  it('refuses a URL it cannot dial before touching the network', async () => {
    const result = await testConnection('http://example.com/');
    expect(result.failure).toMatchObject({ stage: 'config' });
  });

  it('hides credentials and query strings in the reported URL', async () => {
    const result = await testConnection('ws://user:pass@127.0.0.1:1/path?token=abc', { timeoutMs: 1000 });
    expect(result.url).toBe('ws://127.0.0.1:1/path');
    expect(result.ok).toBe(false);
  });
});

describe('testProfileConnection', () => {
  it("uses the profile's headers", async () => {
    const broker = await fakeBroker({ apiVersions: { min: 0, max: 12 }, metadata: 'answer', requireToken: 't0ken' });
    const profile = profileSchema.parse({
      id: 'p',
      name: 'P',
      broker: broker.url,
      headers: [{ name: 'Authorization', value: 'Bearer t0ken', secret: true }],
    });
    const result = await testProfileConnection(profile);
    expect(result.ok).toBe(true);
  });

  it('reports a secret header without a value as a configuration problem', async () => {
    const profile = profileSchema.parse({ id: 'p', name: 'P', broker: 'ws://127.0.0.1:1/', headers: [{ name: 'Authorization', secret: true }] });
    const result = await testProfileConnection(profile);
    expect(result.failure).toEqual({ stage: 'config', message: 'Header Authorization has no value; enter it again in the profile' });
  });
});
