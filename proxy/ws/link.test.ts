import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeHeader, Opcode } from './frame-parser.ts';
import { closeAll, connect, HEAD_BYTES, startServer, STREAM_FROM_BYTES } from '../../test/support/link-peer.ts';

afterEach(closeAll);

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
