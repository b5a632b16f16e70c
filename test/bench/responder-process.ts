import { createServer as createHttpServer } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { ApiKey } from '../../proxy/kafka/api-keys.ts';
import { FramePool, FrameScanner, HEAD_BYTES, responseFor } from './frames.ts';
import type { ResponderReply, ResponderRequest } from './responder.ts';
import { completeUpgrade, ServerWebSocket } from './ws-server.ts';

/**
 * The benchmark's broker, in its own process so that it does not share an event
 * loop with the load generator: it answers every request frame with a response
 * of the same API carrying the same correlation id, over WebSocket (what the
 * tunnel dials) and over plain TCP (the direct baseline). The parent configures
 * the response size and can make it stop reading ("stall") to test backpressure.
 *
 * Both sides do the same broker work: read each request's first HEAD_BYTES (API
 * key, correlation id), skip the rest without gathering it, answer from a
 * FramePool. That is why the WebSocket side is hand-rolled (ws-server.ts) rather
 * than ws's server, whose receiver gathers every message into one fresh buffer
 * and unmasks all of it. For 1 MiB requests the responder would then work far
 * harder behind the tunnel than behind the baseline, and with three processes
 * sharing the cores that cost would be counted against the tunnel.
 */

const MAX_FRAME_BYTES = 256 * 1024 * 1024;

let responseBytes = 64;
let stalled = false;
const pools = new Map<string, FramePool>();
const websockets = new Set<ServerWebSocket>();
const sockets = new Set<Socket>();

function poolFor(apiKey: number): FramePool {
  // Metadata answers have one fixed shape (the session probe).
  const bytes = apiKey === ApiKey.Metadata ? 0 : responseBytes;
  const key = `${apiKey}:${bytes}`;
  let pool = pools.get(key);
  if (!pool) {
    pool = new FramePool(responseFor(apiKey, bytes));
    pools.set(key, pool);
  }
  return pool;
}

const http = createHttpServer({ noDelay: true }, (_req, res) => {
  res.writeHead(426, { Connection: 'close', 'Content-Length': 0, Upgrade: 'websocket' }).end();
});
http.on('upgrade', (req, socket: Socket, head: Buffer) => {
  socket.on('error', () => socket.destroy());
  if (!completeUpgrade(req, socket)) return;
  const ws = new ServerWebSocket(socket, head, {
    maxFrameBytes: MAX_FRAME_BYTES,
    onMessage: (requestHead) => {
      if (requestHead.length < HEAD_BYTES) return;
      const pool = poolFor(requestHead.readInt16BE(4));
      const frame = pool.take(requestHead.readInt32BE(8));
      ws.send(frame, () => pool.release(frame));
    },
  });
  websockets.add(ws);
  socket.on('close', () => websockets.delete(ws));
  if (stalled) ws.pause();
  else ws.resume();
});
http.listen(0, '127.0.0.1');

const tcp = createServer({ noDelay: true }, (socket) => {
  sockets.add(socket);
  if (stalled) socket.pause();
  const scanner = new FrameScanner({ maxFrameBytes: MAX_FRAME_BYTES });
  socket.on('data', (chunk: Buffer) =>
    scanner.push(chunk, (head) => {
      if (head.length < HEAD_BYTES) return;
      const pool = poolFor(head.readInt16BE(4));
      const frame = pool.take(head.readInt32BE(8));
      socket.write(frame, () => pool.release(frame));
    }),
  );
  socket.on('error', () => socket.destroy());
  socket.on('close', () => sockets.delete(socket));
});
tcp.listen(0, '127.0.0.1');

function handle(request: ResponderRequest): ResponderReply {
  switch (request.type) {
    case 'configure':
      responseBytes = request.responseBytes;
      pools.clear();
      break;
    case 'stall':
      stalled = true;
      for (const ws of websockets) ws.pause();
      for (const s of sockets) s.pause();
      break;
    case 'resume':
      stalled = false;
      for (const ws of websockets) ws.resume();
      for (const s of sockets) s.resume();
      break;
    case 'status':
      break;
  }
  return { id: request.id, websocket: websockets.size, tcp: sockets.size };
}

process.on('message', (request: ResponderRequest) => process.send!(handle(request)));
// The parent going away (even by a crash) must not leave this process behind.
process.on('disconnect', () => process.exit(0));

let listening = 0;
const ready = () => {
  if (++listening < 2) return;
  process.send!({ type: 'ready', wsPort: (http.address() as { port: number }).port, tcpPort: (tcp.address() as { port: number }).port });
};
http.on('listening', ready);
tcp.on('listening', ready);
