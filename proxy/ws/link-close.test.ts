import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeHeader, Opcode } from './frame-parser.ts';
import { closeAll, connect, startServer } from '../../test/support/link-peer.ts';

afterEach(closeAll);

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

  it('ignores whatever follows the broker close frame in the same packet', async () => {
    const server = await startServer();
    const { peer, events } = await connect(server);
    const frame = (opcode: number, payload: Buffer) => Buffer.concat([encodeHeader({ opcode, length: payload.length, mask: null }), payload]);
    const close = Buffer.alloc(2);
    close.writeUInt16BE(1000, 0);
    // After the close: a message, a pong, and a continuation that would be a protocol error.
    peer.socket.write(Buffer.concat([frame(Opcode.Close, close), frame(Opcode.Binary, Buffer.from('after close')), frame(Opcode.Pong, Buffer.alloc(0)), frame(Opcode.Continuation, Buffer.alloc(0))]));
    expect(await events.first('close')).toEqual({ type: 'close', code: 1000, reason: '' });
    expect(events.types()).toEqual(['close']);
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
