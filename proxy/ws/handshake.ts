import { createHash, randomBytes } from 'node:crypto';
import type { Agent, ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * The client's opening handshake (RFC 6455 §4.1): an HTTP/1.1 GET asking to
 * upgrade, answered by 101 with Sec-WebSocket-Accept = base64(SHA-1(key + GUID)).
 * What follows on the socket is frames, which link.ts speaks. We do it ourselves
 * rather than through ws because the tunnel needs only this and the frames; ws's
 * client pulls in its server, compression and TLS modules (about 10 MB of an idle
 * tunnel's memory) and would stand between us and the socket.
 *
 * https is loaded only for wss:// URLs, for the same reason.
 */

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export interface HandshakeTarget {
  url: string;
  headers: Record<string, string>;
  ca?: string;
  rejectUnauthorized: boolean;
  /** An outbound HTTP proxy's agent, or undefined for a direct connection. */
  agent?: Agent;
  timeoutMs: number;
}

/** Why a handshake failed; dial.ts turns these into DialErrors. */
export class HandshakeError extends Error {
  readonly kind: 'url' | 'refused' | 'invalid' | 'timeout' | 'network';
  /** HTTP status of a refused upgrade. */
  readonly status?: number;
  readonly statusMessage?: string;
  readonly code?: string;
  constructor(kind: HandshakeError['kind'], message: string, options: { status?: number; statusMessage?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'HandshakeError';
    this.kind = kind;
    this.status = options.status;
    this.statusMessage = options.statusMessage;
    this.code = (options.cause as NodeJS.ErrnoException | undefined)?.code;
  }
}

export interface OpenedWebSocket {
  socket: Duplex;
  /** Bytes that arrived with the 101 answer: the first frames. */
  head: Buffer;
}

export function acceptFor(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

/** Resolves with the upgraded socket; rejects with a HandshakeError. `signal` aborts. */
export async function openWebSocket(target: HandshakeTarget, signal?: AbortSignal): Promise<OpenedWebSocket> {
  let url: URL;
  try {
    url = new URL(target.url);
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new Error(`${url.protocol} is not ws: or wss:`);
  } catch (err) {
    throw new HandshakeError('url', (err as Error).message, { cause: err });
  }
  const secure = url.protocol === 'wss:';
  const { request } = secure ? await import('node:https') : await import('node:http');
  const key = randomBytes(16).toString('base64');
  const options: RequestOptions & { ca?: string; rejectUnauthorized?: boolean; servername?: string } = {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port || (secure ? 443 : 80),
    path: url.pathname + url.search,
    method: 'GET',
    headers: {
      ...target.headers,
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': key,
    },
    // No pooling: an upgraded socket never goes back to an agent.
    agent: target.agent ?? false,
  };
  if (secure) {
    options.ca = target.ca;
    options.rejectUnauthorized = target.rejectUnauthorized;
  }
  if (url.username || url.password) options.auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;

  return new Promise((resolve, reject) => {
    let req: ClientRequest;
    let settled = false;
    const fail = (err: HandshakeError) => {
      if (settled) return;
      settled = true;
      cleanup();
      req.destroy();
      reject(err);
    };
    const onAbort = () => fail(new HandshakeError('network', 'cancelled'));
    const timer = setTimeout(() => fail(new HandshakeError('timeout', 'Opening handshake has timed out')), target.timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    try {
      req = request(options);
    } catch (err) {
      settled = true;
      cleanup();
      reject(new HandshakeError('url', (err as Error).message, { cause: err }));
      return;
    }
    req.on('error', (err) => fail(new HandshakeError('network', err.message, { cause: err })));
    req.on('response', (res: IncomingMessage) => {
      res.resume();
      fail(new HandshakeError('refused', `HTTP ${res.statusCode}`, { status: res.statusCode, statusMessage: res.statusMessage }));
    });
    req.on('upgrade', (res: IncomingMessage, socket: Duplex, head: Buffer) => {
      const problem = checkAnswer(res, key);
      if (problem) {
        socket.destroy();
        fail(new HandshakeError('invalid', problem));
        return;
      }
      if (settled) {
        socket.destroy();
        return;
      }
      settled = true;
      cleanup();
      (socket as Duplex & { setNoDelay?(on: boolean): void }).setNoDelay?.(true);
      (socket as Duplex & { setTimeout?(ms: number): void }).setTimeout?.(0);
      resolve({ socket, head });
    });
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    req.end();
  });
}

/** What is wrong with a 101 answer, or null when it is a proper WebSocket upgrade. */
function checkAnswer(res: IncomingMessage, key: string): string | null {
  if ((res.headers.upgrade ?? '').toLowerCase() !== 'websocket') return 'the answer does not upgrade to websocket';
  if (res.headers['sec-websocket-accept'] !== acceptFor(key)) return 'the Sec-WebSocket-Accept header does not match our key';
  // We offered neither extensions nor subprotocols; a server that picks one speaks something else.
  if (res.headers['sec-websocket-extensions']) return `the server chose an extension we did not offer (${res.headers['sec-websocket-extensions']})`;
  if (res.headers['sec-websocket-protocol']) return `the server chose a subprotocol we did not offer (${res.headers['sec-websocket-protocol']})`;
  return null;
}
