import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * A WebSocket "broker" whose behaviour a test switches between connections, so
 * one tunnel can meet fault after fault and show it still serves the next
 * client. It also counts its open TCP sockets, so a test can see the tunnel
 * really let go of its side.
 */

export type BrokerMode =
  /** Echo every binary message. */
  | { kind: 'echo' }
  /** Answer the upgrade with this HTTP status. */
  | { kind: 'reject'; status: number }
  /** Accept TCP and read the upgrade request, never answer it. */
  | { kind: 'hang' }
  /** Close the TCP connection as soon as the upgrade request arrives. */
  | { kind: 'drop' }
  /** Complete the upgrade and hand each message to the test. */
  | { kind: 'script'; onMessage: (ws: WebSocket, data: Buffer, raw: Socket) => void };

export class FaultBroker {
  mode: BrokerMode = { kind: 'echo' };
  /** Upgrade requests seen, in order (retries included). */
  readonly upgrades: IncomingMessage[] = [];
  readonly #server: Server;
  readonly #wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  readonly #sockets = new Set<Socket>();
  /** Sockets whose peer (the tunnel) has neither ended nor closed them. */
  readonly #peerOpen = new Set<Socket>();

  private constructor() {
    this.#server = createServer();
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      // The HTTP server allows half-open sockets; the tunnel closing its side is what counts.
      socket.once('end', () => this.#peerOpen.delete(socket));
      socket.once('close', () => this.#peerOpen.delete(socket));
      this.#peerOpen.add(socket);
    });
    this.#server.on('upgrade', (req, socket, head) => this.#upgrade(req, socket as Socket, head));
  }

  static async start(): Promise<FaultBroker> {
    const broker = new FaultBroker();
    broker.#server.listen(0, '127.0.0.1');
    await once(broker.#server, 'listening');
    return broker;
  }

  get port(): number {
    return (this.#server.address() as { port: number }).port;
  }

  /** TCP connections the tunnel has not closed (nor half-closed) yet. */
  get openSockets(): number {
    return this.#peerOpen.size;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    this.upgrades.push(req);
    const mode = this.mode;
    switch (mode.kind) {
      case 'reject':
        socket.end(`HTTP/1.1 ${mode.status} Refused\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
        return;
      case 'hang':
        // Silent until the tunnel gives up, then close as any server would.
        socket.once('end', () => socket.destroy());
        return;
      case 'drop':
        socket.destroy();
        return;
      case 'echo':
      case 'script':
        this.#wss.handleUpgrade(req, socket, head, (ws) => {
          ws.on('error', () => {});
          ws.on('message', (data: Buffer, isBinary) => {
            if (mode.kind === 'script') mode.onMessage(ws, data, socket);
            else if (isBinary) ws.send(data);
          });
        });
    }
  }
}
