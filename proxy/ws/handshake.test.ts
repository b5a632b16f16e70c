import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { dialOnce, type DialError } from '../dial.ts';
import { encodeHeader, Opcode } from './frame-parser.ts';
import { acceptFor } from './handshake.ts';

/**
 * Our side of the opening handshake against a hand-written server, so each
 * answer can be exactly right or wrong in one particular way.
 */

const servers: Server[] = [];
const upgraded: Duplex[] = [];
afterEach(async () => {
  // Upgraded sockets no longer belong to the HTTP server: close() would wait for them.
  for (const socket of upgraded.splice(0)) socket.destroy();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function serve(answer: (req: IncomingMessage, socket: Duplex) => void): Promise<string> {
  const server = createServer((_req, res) => res.writeHead(426).end());
  server.on('upgrade', (req, socket) => {
    upgraded.push(socket);
    answer(req, socket);
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `ws://127.0.0.1:${(server.address() as { port: number }).port}/kafka?x=1`;
}

function switching(req: IncomingMessage, extra: Record<string, string> = {}, accept = acceptFor(String(req.headers['sec-websocket-key']))): string {
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${accept}`];
  for (const [k, v] of Object.entries(extra)) lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

const target = (url: string) => ({ url, headers: { Authorization: 'Bearer t' }, rejectUnauthorized: true, maxPayload: 1 << 20 });

async function dialError(url: string): Promise<DialError> {
  return dialOnce(target(url), 2000).then(
    () => {
      throw new Error('the handshake should have failed');
    },
    (err: DialError) => err,
  );
}

describe('opening handshake', () => {
  it("computes Sec-WebSocket-Accept as RFC 6455's own example does", () => {
    expect(acceptFor('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('asks for version 13 with a fresh key, the path, the query and the profile headers', async () => {
    let seen: IncomingMessage | null = null;
    const url = await serve((req, socket) => {
      seen = req;
      socket.write(switching(req));
    });
    const link = await dialOnce(target(url), 2000);
    link.terminate();
    expect(seen!.url).toBe('/kafka?x=1');
    expect(seen!.headers).toMatchObject({ upgrade: 'websocket', 'sec-websocket-version': '13', authorization: 'Bearer t' });
    expect(Buffer.from(String(seen!.headers['sec-websocket-key']), 'base64')).toHaveLength(16);
  });

  it('reads the first frames when they arrive in the same packet as the 101 answer', async () => {
    const frame = Buffer.from([0, 0, 0, 4, 1, 2, 3, 4]);
    const url = await serve((req, socket) => {
      socket.write(Buffer.concat([Buffer.from(switching(req)), encodeHeader({ opcode: Opcode.Binary, length: frame.length, mask: null }), frame]));
    });
    const link = await dialOnce(target(url), 2000);
    const got = await new Promise<Buffer>((resolve) =>
      link.attach({ message: resolve, messageStart: () => 'collect', messagePart: () => {}, text: () => {}, pong: () => {}, error: () => {}, close: () => {} }),
    );
    link.terminate();
    expect(got.equals(frame)).toBe(true);
  });

  it('refuses an answer whose Sec-WebSocket-Accept does not match the key', async () => {
    const url = await serve((req, socket) => socket.write(switching(req, {}, acceptFor('some other key'))));
    const err = await dialError(url);
    expect(err.code).toBe('BROKER_HANDSHAKE_REJECTED');
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/Sec-WebSocket-Accept/);
  });

  it('refuses an extension or subprotocol it did not offer', async () => {
    const deflate = await serve((req, socket) => socket.write(switching(req, { 'Sec-WebSocket-Extensions': 'permessage-deflate' })));
    expect((await dialError(deflate)).message).toMatch(/extension we did not offer \(permessage-deflate\)/);
    const protocol = await serve((req, socket) => socket.write(switching(req, { 'Sec-WebSocket-Protocol': 'mqtt' })));
    expect((await dialError(protocol)).message).toMatch(/subprotocol we did not offer \(mqtt\)/);
  });

  it('reports a refused upgrade with its status; 5xx is worth retrying, 403 is not', async () => {
    const forbidden = await serve((_req, socket) => socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'));
    const e403 = await dialError(forbidden);
    expect(e403).toMatchObject({ code: 'BROKER_HANDSHAKE_REJECTED', status: 403, retryable: false });
    expect(e403.message).toMatch(/HTTP 403 \(check the credentials in the profile headers\)/);
    const unavailable = await serve((_req, socket) => socket.end('HTTP/1.1 503 Busy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'));
    expect(await dialError(unavailable)).toMatchObject({ code: 'BROKER_HANDSHAKE_REJECTED', status: 503, retryable: true });
  });

  it('times out a server that never answers, and says so', async () => {
    const url = await serve(() => {});
    const err = await dialOnce(target(url), 200).catch((e: DialError) => e);
    expect(err).toMatchObject({ code: 'BROKER_TIMEOUT', retryable: true });
  });

  it('refuses a URL that is not ws:// or wss:// before touching the network', async () => {
    const err = await dialError('http://127.0.0.1:1/');
    expect(err).toMatchObject({ code: 'BROKER_CONFIG', retryable: false });
  });
});
