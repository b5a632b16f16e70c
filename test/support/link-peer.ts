import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { dialOnce } from '../../proxy/dial.ts';
import type { BrokerLink, LinkHandlers } from '../../proxy/ws/link.ts';

/*
 * Test support for BrokerLink (proxy/ws/link.ts): a real ws server as the broker
 * side, recorders for both ends, and a dial the way the tunnel does it.
 */
/** What dial.ts configures: messages of 64 KiB and more may be streamed, with a 512-byte head. */
export const STREAM_FROM_BYTES = 64 * 1024;
export const HEAD_BYTES = 512;

/** Events in arrival order, with a way to wait for one. */
export class Log<T extends { type: string }> {
  readonly items: T[] = [];
  #waiters: { match: (item: T) => boolean; resolve: (item: T) => void }[] = [];

  push(item: T): void {
    this.items.push(item);
    for (const waiter of [...this.#waiters]) {
      if (!waiter.match(item)) continue;
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      waiter.resolve(item);
    }
  }

  /** The first item, already here or still to come, that matches. */
  until(match: (item: T) => boolean): Promise<T> {
    const found = this.items.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }

  /** The first item of a type, already here or still to come. */
  first<K extends T['type']>(type: K): Promise<Extract<T, { type: K }>> {
    return this.until((item) => item.type === type) as Promise<Extract<T, { type: K }>>;
  }

  /** Waits for `n` items of a type and returns all of that type so far. */
  async count<K extends T['type']>(type: K, n: number): Promise<Extract<T, { type: K }>[]> {
    let seen = 0;
    await this.until((item) => item.type === type && ++seen === n);
    return this.ofType(type);
  }

  ofType<K extends T['type']>(type: K): Extract<T, { type: K }>[] {
    return this.items.filter((item) => item.type === type) as Extract<T, { type: K }>[];
  }

  types(): string[] {
    return this.items.map((item) => item.type);
  }
}

export type LinkEvent =
  | { type: 'message'; data: Buffer }
  | { type: 'messageStart'; head: Buffer; length: number }
  | { type: 'messagePart'; part: Buffer; last: boolean }
  | { type: 'text' }
  | { type: 'pong' }
  | { type: 'error'; code: string; message: string }
  | { type: 'close'; code: number; reason: string };

/** The link's listener: records everything, answers messageStart with `choice`. */
export class LinkEvents extends Log<LinkEvent> implements LinkHandlers {
  choice: 'stream' | 'collect' = 'collect';
  message(data: Buffer): void {
    this.push({ type: 'message', data: Buffer.from(data) });
  }
  messageStart(head: Buffer, length: number): 'stream' | 'collect' {
    this.push({ type: 'messageStart', head: Buffer.from(head), length });
    return this.choice;
  }
  messagePart(part: Buffer, last: boolean): void {
    this.push({ type: 'messagePart', part: Buffer.from(part), last });
  }
  text(): void {
    this.push({ type: 'text' });
  }
  pong(): void {
    this.push({ type: 'pong' });
  }
  error(err: { code: string; message: string }): void {
    this.push({ type: 'error', code: err.code, message: err.message });
  }
  close(code: number, reason: string): void {
    this.push({ type: 'close', code, reason });
  }
}

export type PeerEvent =
  | { type: 'message'; data: Buffer; binary: boolean }
  | { type: 'ping'; data: Buffer }
  | { type: 'pong'; data: Buffer }
  | { type: 'close'; code: number; reason: string };

export interface Peer {
  ws: WebSocket;
  /** The TCP socket under it, for raw bytes and hard drops. */
  socket: Socket;
  log: Log<PeerEvent>;
}

export interface TestServer {
  url: string;
  peers: Log<{ type: 'peer'; peer: Peer }>;
}

export interface ServerOptions {
  /** Runs in ws's 'connection' handler, right after the 101 response was written. */
  onConnection?: (peer: Peer) => void;
  /** Holds the 101 response and whatever onConnection writes in one TCP write. */
  corkHandshake?: boolean;
}

const cleanups: (() => Promise<void> | void)[] = [];
/** Closes every server and link the test opened (call from afterEach). */
export async function closeAll(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

/** A ws server on 127.0.0.1, port 0: the broker side. */
export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  const http: HttpServer = createServer();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 << 20 });
  const peers = new Log<{ type: 'peer'; peer: Peer }>();
  http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (options.corkHandshake) socket.cork();
    wss.handleUpgrade(req, socket, head, (ws) => {
      const log = new Log<PeerEvent>();
      ws.on('message', (data: Buffer, binary) => log.push({ type: 'message', data, binary }));
      ws.on('ping', (data) => log.push({ type: 'ping', data }));
      ws.on('pong', (data) => log.push({ type: 'pong', data }));
      ws.on('close', (code, reason) => log.push({ type: 'close', code, reason: reason.toString() }));
      ws.on('error', () => {});
      const peer = { ws, socket, log };
      options.onConnection?.(peer);
      if (options.corkHandshake) process.nextTick(() => socket.uncork());
      peers.push({ type: 'peer', peer });
    });
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  cleanups.push(async () => {
    for (const client of wss.clients) client.terminate();
    wss.close();
    http.close();
    await once(http, 'close');
  });
  const { port } = http.address() as { port: number };
  return { url: `ws://127.0.0.1:${port}/`, peers };
}

/** Dials `server` the way the tunnel does, attaches a recorder, and returns both ends. */
export async function connect(server: TestServer, options: { maxPayload?: number; attach?: boolean } = {}) {
  const link: BrokerLink = await dialOnce({ url: server.url, headers: {}, rejectUnauthorized: true, maxPayload: options.maxPayload ?? 16 << 20 }, 5000);
  cleanups.push(() => link.terminate());
  const { peer } = await server.peers.first('peer');
  const events = new LinkEvents();
  if (options.attach !== false) link.attach(events);
  return { link, peer, events };
}

