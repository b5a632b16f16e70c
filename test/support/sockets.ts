import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { profileSchema, type Profile, type ProfileInput } from '../../shared/profile.ts';

/** Test helpers: real sockets on loopback, port 0. */

export function kafkaFrame(body: Buffer | number[] | string): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : Buffer.isBuffer(body) ? body : Buffer.from(body);
  const out = Buffer.allocUnsafe(4 + b.length);
  out.writeInt32BE(b.length, 0);
  b.copy(out, 4);
  return out;
}

/** A frame whose body starts with `i` (uint32) and is filled with `i & 0xff`: checkable on arrival. */
export function numberedFrame(i: number, bodyBytes: number): Buffer {
  const body = Buffer.alloc(bodyBytes, i & 0xff);
  body.writeUInt32BE(i, 0);
  return kafkaFrame(body);
}

export interface TestBroker {
  port: number;
  url: string;
  wss: WebSocketServer;
  server: HttpServer;
  /** Every message received, in order, per connection. */
  received: Buffer[];
  connections: WebSocket[];
  requests: IncomingMessage[];
  close(): Promise<void>;
}

export interface TestBrokerOptions {
  /** Called for each binary message; default: echo it back. */
  onMessage?: (ws: WebSocket, data: Buffer) => void;
  onConnection?: (ws: WebSocket, req: IncomingMessage) => void;
  /** Answer the upgrade with this HTTP status instead. */
  rejectStatus?: number;
  /** Delay the upgrade by this many ms. */
  upgradeDelayMs?: number;
  tls?: { key: string; cert: string };
  autoPong?: boolean;
}

export async function startTestBroker(options: TestBrokerOptions = {}): Promise<TestBroker> {
  const server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }) : createHttpServer();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, autoPong: options.autoPong ?? true, maxPayload: 512 * 1024 * 1024 });
  const received: Buffer[] = [];
  const connections: WebSocket[] = [];
  const requests: IncomingMessage[] = [];
  server.on('upgrade', (req, socket, head) => {
    requests.push(req);
    const proceed = () => {
      if (options.rejectStatus) {
        socket.end(`HTTP/1.1 ${options.rejectStatus} Nope\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        connections.push(ws);
        options.onConnection?.(ws, req);
        ws.on('message', (data: Buffer, isBinary) => {
          if (!isBinary) return;
          received.push(data);
          if (options.onMessage) options.onMessage(ws, data);
          else ws.send(data);
        });
      });
    };
    if (options.upgradeDelayMs) setTimeout(proceed, options.upgradeDelayMs);
    else proceed();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `${options.tls ? 'wss' : 'ws'}://127.0.0.1:${port}/`,
    wss,
    server,
    received,
    connections,
    requests,
    close: async () => {
      for (const ws of connections) ws.terminate();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function testProfile(overrides: Partial<ProfileInput> = {}): Profile {
  return profileSchema.parse({
    id: 'test',
    name: 'Test',
    broker: '127.0.0.1:1',
    listenPort: 0,
    retryDelayMs: 10,
    connectRetries: 2,
    keepaliveMs: 0,
    ...overrides,
  });
}

export async function connectClient(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  return socket;
}

/** Reads whole frames off a client socket. */
export class FrameReader {
  readonly frames: Buffer[] = [];
  #buffer = Buffer.alloc(0);
  #waiters: { count: number; resolve: () => void }[] = [];
  ended = false;
  #endWaiters: (() => void)[] = [];

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      while (this.#buffer.length >= 4) {
        const size = this.#buffer.readInt32BE(0);
        if (this.#buffer.length < 4 + size) break;
        this.frames.push(this.#buffer.subarray(0, 4 + size));
        this.#buffer = this.#buffer.subarray(4 + size);
      }
      this.#waiters = this.#waiters.filter((w) => {
        if (this.frames.length < w.count) return true;
        w.resolve();
        return false;
      });
    });
    const onEnd = () => {
      this.ended = true;
      for (const r of this.#endWaiters) r();
      this.#endWaiters = [];
    };
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', () => {});
  }

  waitFor(count: number): Promise<Buffer[]> {
    if (this.frames.length >= count) return Promise.resolve(this.frames.slice(0, count));
    return new Promise((resolve) => this.#waiters.push({ count, resolve: () => resolve(this.frames.slice(0, count)) }));
  }

  waitForEnd(): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((resolve) => this.#endWaiters.push(resolve));
  }
}

/** Resolves with the first event matching `predicate`. */
export function waitForEvent<T>(emitter: { on(e: 'event', l: (ev: T) => void): unknown; off(e: 'event', l: (ev: T) => void): unknown }, predicate: (ev: T) => boolean): Promise<T> {
  return new Promise((resolve) => {
    const listener = (ev: T) => {
      if (!predicate(ev)) return;
      emitter.off('event', listener);
      resolve(ev);
    };
    emitter.on('event', listener);
  });
}
