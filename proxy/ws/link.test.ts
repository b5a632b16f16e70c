import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { dialOnce } from '../dial.ts';
import { encodeHeader, Opcode } from './frame-parser.ts';
import type { BrokerLink, LinkHandlers } from './link.ts';

/** What dial.ts configures: messages of 64 KiB and more may be streamed, with a 512-byte head. */
const STREAM_FROM_BYTES = 64 * 1024;
const HEAD_BYTES = 512;

/** Events in arrival order, with a way to wait for one. */
class Log<T extends { type: string }> {
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

type LinkEvent =
  | { type: 'message'; data: Buffer }
  | { type: 'messageStart'; head: Buffer; length: number }
  | { type: 'messagePart'; part: Buffer; last: boolean }
  | { type: 'text' }
  | { type: 'pong' }
  | { type: 'error'; code: string; message: string }
  | { type: 'close'; code: number; reason: string };

/** The link's listener: records everything, answers messageStart with `choice`. */
class LinkEvents extends Log<LinkEvent> implements LinkHandlers {
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

type PeerEvent =
  | { type: 'message'; data: Buffer; binary: boolean }
  | { type: 'ping'; data: Buffer }
  | { type: 'pong'; data: Buffer }
  | { type: 'close'; code: number; reason: string };

interface Peer {
  ws: WebSocket;
  /** The TCP socket under it, for raw bytes and hard drops. */
  socket: Socket;
  log: Log<PeerEvent>;
}

interface TestServer {
  url: string;
  peers: Log<{ type: 'peer'; peer: Peer }>;
}

interface ServerOptions {
  /** Runs in ws's 'connection' handler, right after the 101 response was written. */
  onConnection?: (peer: Peer) => void;
  /** Holds the 101 response and whatever onConnection writes in one TCP write. */
  corkHandshake?: boolean;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A ws server on 127.0.0.1, port 0: the broker side. */
async function startServer(options: ServerOptions = {}): Promise<TestServer> {
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
async function connect(server: TestServer, options: { maxPayload?: number; attach?: boolean } = {}) {
  const link: BrokerLink = await dialOnce({ url: server.url, headers: {}, rejectUnauthorized: true, maxPayload: options.maxPayload ?? 16 << 20 }, 5000);
  cleanups.push(() => link.terminate());
  const { peer } = await server.peers.first('peer');
  const events = new LinkEvents();
  if (options.attach !== false) link.attach(events);
  return { link, peer, events };
}

describe('BrokerLink out: messages to the broker', () => {
  it('sends a whole message as one binary message, leaving a borrowed buffer as it was', async () => {
    const server = await startServer();
    const { link, peer } = await connect(server);
    for (const length of [0, 1, 125, 126, 65535, 65536, 200_000]) {
      const data = randomBytes(length);
      const copy = Buffer.from(data);
      link.send(data, false);
      expect(data.equals(copy)).toBe(true);
      const got = (await peer.log.count('message', peer.log.ofType('message').length + 1)).at(-1)!;
      expect(got.binary).toBe(true);
      expect(got.data.equals(copy), `length ${length}`).toBe(true);
    }
  });

  it('masks a large owned buffer in place, copies a small one, and delivers the exact bytes', async () => {
    const server = await startServer();
    const { link, peer } = await connect(server);
    const large = randomBytes(100_000);
    const largeCopy = Buffer.from(large);
    link.send(large, true);
    const got = await peer.log.first('message');
    expect(got.data.equals(largeCopy)).toBe(true);
    // Masked with a random key: equal again only for the all-zero key (1 in 2^32).
    expect(large.equals(largeCopy)).toBe(false);
    // Small frames go out as one buffer with their header; the caller's bytes stay as they were.
    const small = randomBytes(4096);
    const smallCopy = Buffer.from(small);
    link.send(small, true);
    const [, second] = await peer.log.count('message', 2);
    expect(second.data.equals(smallCopy)).toBe(true);
    expect(small.equals(smallCopy)).toBe(true);
  });

  it('streams a message begun with its length and given in uneven parts, as one message', async () => {
    const server = await startServer();
    const { link, peer } = await connect(server);
    const data = randomBytes(300_001);
    const copy = Buffer.from(data);
    const sizes = [1, 2, 3, 125, 4096, 7, 65536, 13, 100_000];
    link.begin(data.length);
    let at = 0;
    for (let i = 0; at < data.length; i++) {
      const size = Math.min(sizes[i % sizes.length], data.length - at);
      // Alternately ours to mask in place and borrowed.
      link.part(data.subarray(at, at + size), i % 2 === 0);
      at += size;
    }
    const [got] = await peer.log.count('message', 1);
    expect(got.data.equals(copy)).toBe(true);
    link.send(Buffer.from('after'), false);
    const [, after] = await peer.log.count('message', 2);
    expect(after.data.toString()).toBe('after');
  });

  it('refuses a part longer than what the message has left', async () => {
    const server = await startServer();
    const { link } = await connect(server);
    link.begin(10);
    expect(() => link.part(Buffer.alloc(11), false)).toThrow(RangeError);
  });

  it('holds a ping and a whole message until the message being streamed ends', async () => {
    const server = await startServer();
    const { link, peer, events } = await connect(server);
    const data = randomBytes(100_000);
    const copy = Buffer.from(data);
    link.begin(data.length);
    link.part(data.subarray(0, 40_000), true);
    link.ping();
    link.send(Buffer.from('next'), false);
    link.part(data.subarray(40_000), false);
    await peer.log.count('message', 2);
    const seen = peer.log.items.map((e) => (e.type === 'message' ? `message ${e.data.length}` : e.type));
    expect(seen).toEqual(['message 100000', 'ping', 'message 4']);
    const messages = peer.log.ofType('message');
    expect(messages[0].data.equals(copy)).toBe(true);
    expect(messages[1].data.toString()).toBe('next');
    // ws answers the ping.
    await events.first('pong');
  });

  it('holds its pong to a broker ping until the message being streamed ends', async () => {
    const server = await startServer();
    const { link, peer, events } = await connect(server);
    const data = randomBytes(50_000);
    const copy = Buffer.from(data);
    link.begin(data.length);
    link.part(data.subarray(0, 20_000), false);
    peer.ws.ping(Buffer.from('are you there'));
    // Frames arrive in order: once this message is in, the ping has been read and answered.
    peer.ws.send(Buffer.from('marker'));
    await events.first('message');
    link.part(data.subarray(20_000), false);
    const pong = await peer.log.first('pong');
    expect(pong.data.toString()).toBe('are you there');
    expect(peer.log.types()).toEqual(['message', 'pong']);
    expect(peer.log.ofType('message')[0].data.equals(copy)).toBe(true);
  });

  it('ends the connection without a close frame when closed in the middle of a message', async () => {
    const server = await startServer();
    const { link, peer, events } = await connect(server);
    link.begin(1000);
    link.part(Buffer.alloc(10), false);
    link.close(1000, 'bye');
    const closed = await peer.log.first('close');
    expect(closed).toMatchObject({ code: 1006 });
    expect(await events.first('close')).toEqual({ type: 'close', code: 1006, reason: '' });
    expect(peer.log.ofType('message')).toEqual([]);
  });
});

describe('BrokerLink in: messages from the broker', () => {
  it('delivers small messages whole, in order', async () => {
    const server = await startServer();
    const { peer, events } = await connect(server);
    const sent = [Buffer.from('a'), Buffer.alloc(0), randomBytes(126), randomBytes(STREAM_FROM_BYTES - 1)];
    for (const data of sent) peer.ws.send(data);
    const messages = await events.count('message', sent.length);
    messages.forEach((m, i) => expect(m.data.equals(sent[i]), `message ${i}`).toBe(true));
    expect(events.types().includes('messageStart')).toBe(false);
  });

  it("offers a large message to messageStart with its head and length, and streams it on 'stream'", async () => {
    const server = await startServer();
    const { peer, events } = await connect(server);
    events.choice = 'stream';
    for (const length of [STREAM_FROM_BYTES, 1_000_003]) {
      events.items.length = 0;
      const data = randomBytes(length);
      peer.ws.send(data);
      await events.until((e) => e.type === 'messagePart' && e.last);
      const parts = events.ofType('messagePart');
      expect(events.types()).toEqual(['messageStart', ...parts.map(() => 'messagePart')]);
      expect(events.ofType('messageStart')).toEqual([{ type: 'messageStart', head: data.subarray(0, HEAD_BYTES), length }]);
      expect(parts.map((p) => p.last)).toEqual([...parts.slice(1).map(() => false), true]);
      expect(Buffer.concat(parts.map((p) => p.part)).equals(data), `length ${length}`).toBe(true);
    }
    peer.ws.send(Buffer.from('small after'));
    const small = await events.first('message');
    expect(small.data.toString()).toBe('small after');
  });

  it("delivers a large message whole to message() on 'collect'", async () => {
    const server = await startServer();
    const { peer, events } = await connect(server);
    events.choice = 'collect';
    const data = randomBytes(700_000);
    peer.ws.send(data);
    const got = await events.first('message');
    expect(events.types()).toEqual(['messageStart', 'message']);
    expect(events.items[0]).toEqual({ type: 'messageStart', head: data.subarray(0, HEAD_BYTES), length: data.length });
    expect(got.data.equals(data)).toBe(true);
  });

  for (const choice of ['stream', 'collect'] as const) {
    it(`gathers the head of a large message across TCP reads, then ${choice === 'stream' ? 'streams' : 'collects'} the rest`, async () => {
      const server = await startServer();
      const { peer, events } = await connect(server);
      events.choice = choice;
      peer.socket.setNoDelay(true);
      const data = randomBytes(STREAM_FROM_BYTES + 1000);
      const header = encodeHeader({ opcode: Opcode.Binary, length: data.length, mask: null });
      // The header in two writes, then the payload in pieces smaller than the head, each after a pause.
      const pieces = [header.subarray(0, 1), header.subarray(1), data.subarray(0, 3), data.subarray(3, 200), data.subarray(200, 700), data.subarray(700)];
      for (const piece of pieces) {
        peer.socket.write(piece);
        await sleep(10);
      }
      if (choice === 'stream') {
        await events.until((e) => e.type === 'messagePart' && e.last);
        expect(Buffer.concat(events.ofType('messagePart').map((p) => p.part)).equals(data)).toBe(true);
      } else {
        const got = await events.first('message');
        expect(got.data.equals(data)).toBe(true);
        expect(events.types()).toEqual(['messageStart', 'message']);
      }
      expect(events.ofType('messageStart')).toEqual([{ type: 'messageStart', head: data.subarray(0, HEAD_BYTES), length: data.length }]);
    });
  }

  it('delivers a fragmented message whole, with a ping between its fragments answered', async () => {
    const server = await startServer();
    const { peer, events } = await connect(server);
    events.choice = 'stream';
    // Together well over the streaming threshold: fragments are still gathered, never offered.
    const pieces = [randomBytes(10), randomBytes(STREAM_FROM_BYTES), Buffer.alloc(0), randomBytes(70_000)];
    peer.ws.send(pieces[0], { binary: true, fin: false });
    peer.ws.ping(Buffer.from('mid'));
    peer.ws.send(pieces[1], { binary: true, fin: false });
    peer.ws.send(pieces[2], { binary: true, fin: false });
    peer.ws.send(pieces[3], { binary: true, fin: true });
    const got = await events.first('message');
    expect(got.data.equals(Buffer.concat(pieces))).toBe(true);
    expect(events.types()).toEqual(['message']);
    expect(await peer.log.first('pong')).toMatchObject({ data: Buffer.from('mid') });
  });

  it('reports a text message to text() and goes on with binary ones', async () => {
    const server = await startServer();
    const { peer, events } = await connect(server);
    peer.ws.send('hello');
    peer.ws.send('frag', { fin: false });
    peer.ws.send('mented', { fin: true });
    peer.ws.send(Buffer.from('binary'));
    const got = await events.first('message');
    expect(got.data.toString()).toBe('binary');
    expect(events.types()).toEqual(['text', 'text', 'message']);
  });

  it('answers a broker ping with a pong carrying the same payload', async () => {
    const server = await startServer();
    const { peer } = await connect(server);
    peer.ws.ping(Buffer.from('payload of a ping'));
    peer.ws.ping();
    const [first, second] = await peer.log.count('pong', 2);
    expect(first.data.toString()).toBe('payload of a ping');
    expect(second.data.length).toBe(0);
  });

  it('hears the pong to its own ping', async () => {
    const server = await startServer();
    const { link, peer, events } = await connect(server);
    link.ping();
    await peer.log.first('ping');
    await events.first('pong');
  });

  it('keeps data the broker sends in the same TCP packet as its 101 response', async () => {
    const early = [Buffer.from('first, with the handshake'), randomBytes(300)];
    const server = await startServer({
      corkHandshake: true,
      onConnection: (peer) => {
        for (const data of early) peer.ws.send(data);
        peer.ws.ping(Buffer.from('early ping'));
      },
    });
    const { link, peer, events } = await connect(server, { attach: false });
    // Nothing is read before attach: give the bytes every chance to be lost.
    await sleep(50);
    link.attach(events);
    const messages = await events.count('message', 2);
    expect(messages.map((m) => m.data)).toEqual(early);
    expect(await peer.log.first('pong')).toMatchObject({ data: Buffer.from('early ping') });
  });

  it('stops delivery on pause() and starts it again on resume()', async () => {
    const server = await startServer();
    const { link, peer, events } = await connect(server);
    peer.ws.send(Buffer.from('before'));
    await events.first('message');
    link.pause();
    const sent = ['one', 'two', 'three'].map((s) => Buffer.from(s));
    await Promise.all(sent.map((data) => new Promise<void>((resolve, reject) => peer.ws.send(data, (err) => (err ? reject(err) : resolve())))));
    // The bytes are on their way (or in the socket already); none may be delivered while paused.
    await sleep(100);
    expect(events.types()).toEqual(['message']);
    link.resume();
    const messages = await events.count('message', 4);
    expect(messages.map((m) => m.data.toString())).toEqual(['before', 'one', 'two', 'three']);
  });
});

describe('BrokerLink: closing', () => {
  it('reports the broker close code and reason, and answers the close', async () => {
    const server = await startServer();
    const { link, peer, events } = await connect(server);
    peer.ws.close(4001, 'going away now');
    expect(await events.first('close')).toEqual({ type: 'close', code: 4001, reason: 'going away now' });
    expect(link.open).toBe(false);
    // ws got our close frame (echoing the code), not a dropped socket (1006).
    expect(await peer.log.first('close')).toMatchObject({ code: 4001 });
  });

  it('reports 1005 for a close frame without a code and answers it with 1000', async () => {
    const server = await startServer();
    const { peer, events } = await connect(server);
    peer.ws.close();
    expect(await events.first('close')).toEqual({ type: 'close', code: 1005, reason: '' });
    expect(await peer.log.first('close')).toMatchObject({ code: 1000 });
  });

  it('closes with a code the broker sees, and reports the broker answer', async () => {
    const server = await startServer();
    const { link, peer, events } = await connect(server);
    link.close(1000, 'done');
    expect(link.open).toBe(false);
    // Nothing more goes out once the close frame has.
    link.send(Buffer.from('too late'), false);
    link.ping();
    expect(await peer.log.first('close')).toEqual({ type: 'close', code: 1000, reason: 'done' });
    expect(await events.first('close')).toEqual({ type: 'close', code: 1000, reason: 'done' });
    expect(peer.log.types()).toEqual(['close']);
    expect(events.types()).toEqual(['close']);
  });

  it('reports 1006 when the broker drops the TCP connection without a close frame', async () => {
    const server = await startServer();
    const { link, peer, events } = await connect(server);
    peer.socket.destroy();
    expect(await events.first('close')).toEqual({ type: 'close', code: 1006, reason: '' });
    expect(events.types()).toEqual(['close']);
    expect(link.open).toBe(false);
  });

  it('cuts a long close reason at a character boundary, so the broker can read it', async () => {
    const server = await startServer();
    const { link, peer, events } = await connect(server);
    // 200 bytes of two-byte characters: a close frame holds 123 bytes of reason, which would split one.
    link.close(1000, 'é'.repeat(100));
    const closed = await peer.log.first('close');
    expect(closed).toEqual({ type: 'close', code: 1000, reason: 'é'.repeat(61) });
    expect(await events.first('close')).toMatchObject({ code: 1000 });
  });

  it('reports a close that happened before attach', async () => {
    const server = await startServer();
    const { link, peer, events } = await connect(server, { attach: false });
    peer.socket.resetAndDestroy();
    // A paused socket still notices a reset: wait until the link has seen it go.
    while (link.open) await sleep(5);
    link.attach(events);
    expect(await events.first('close')).toEqual({ type: 'close', code: 1006, reason: '' });
    expect(link.open).toBe(false);
  });

  it('reports close exactly once', async () => {
    const server = await startServer();
    const { link, peer, events } = await connect(server);
    peer.ws.close(1000);
    await events.first('close');
    link.close(1000, '');
    link.terminate();
    await sleep(20);
    expect(events.types()).toEqual(['close']);
  });
});

describe('BrokerLink: limits and protocol errors', () => {
  it('takes a message at the limit, then refuses one over it with BROKER_FRAME_TOO_LARGE and closes with 1009', async () => {
    const server = await startServer();
    const { peer, events } = await connect(server, { maxPayload: 1000 });
    peer.ws.send(randomBytes(1000));
    peer.ws.send(randomBytes(1001));
    peer.ws.send(Buffer.from('never delivered'));
    const error = await events.first('error');
    expect(error).toMatchObject({ code: 'BROKER_FRAME_TOO_LARGE', message: expect.stringMatching(/1001-byte frame is above the 1000-byte limit/) });
    expect(await events.first('close')).toEqual({ type: 'close', code: 1009, reason: '' });
    expect(events.types()).toEqual(['message', 'error', 'close']);
    expect(await peer.log.first('close')).toMatchObject({ code: 1009 });
  });

  it('refuses a fragmented message whose fragments together pass the limit', async () => {
    const server = await startServer();
    const { peer, events } = await connect(server, { maxPayload: 1000 });
    peer.ws.send(randomBytes(600), { binary: true, fin: false });
    peer.ws.send(randomBytes(600), { binary: true, fin: true });
    expect(await events.first('error')).toMatchObject({ code: 'BROKER_FRAME_TOO_LARGE' });
    expect(await events.first('close')).toMatchObject({ code: 1009 });
    expect(events.types()).toEqual(['error', 'close']);
  });

  const violations: [string, Buffer, RegExp][] = [
    ['an unknown opcode', Buffer.from([0x83, 0x00]), /unknown opcode 3/],
    ['reserved bits', Buffer.from([0xc2, 0x01, 0x00]), /reserved bits/],
    ['a masked server frame', Buffer.from([0x82, 0x81, 1, 2, 3, 4, 0x00]), /server frame was masked/],
    ['a continuation with no message', Buffer.from([0x80, 0x01, 0x00]), /continuation frame with no message/],
    ['a new message inside a fragmented one', Buffer.from([0x02, 0x01, 0x00, 0x82, 0x01, 0x00]), /new message began before the previous one ended/],
    ['a close frame with a one-byte payload', Buffer.from([0x88, 0x01, 0x03]), /close frame/],
    ['a close code that may not be sent (1006)', Buffer.from([0x88, 0x02, 0x03, 0xee]), /close code 1006/],
    ['a close code out of range (999)', Buffer.from([0x88, 0x02, 0x03, 0xe7]), /close code 999/],
    ['a close reason that is not UTF-8', Buffer.from([0x88, 0x04, 0x03, 0xe8, 0xc3, 0x28]), /UTF-8/],
    ['a ping of more than 125 bytes', Buffer.concat([Buffer.from([0x89, 126, 0, 126]), Buffer.alloc(126)]), /at most 125 bytes/],
  ];
  for (const [what, bytes, message] of violations) {
    it(`reports ${what} as BROKER_PROTOCOL_ERROR and closes with 1002`, async () => {
      const server = await startServer();
      const { peer, events } = await connect(server);
      peer.ws.send(Buffer.from('fine'));
      await events.first('message');
      peer.socket.write(bytes);
      expect(await events.first('error')).toMatchObject({ code: 'BROKER_PROTOCOL_ERROR', message: expect.stringMatching(message) });
      expect(await events.first('close')).toEqual({ type: 'close', code: 1002, reason: '' });
      expect(events.types()).toEqual(['message', 'error', 'close']);
    });
  }
});
