import { fork, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * The bench's reference hop: a bare TCP relay in its own Node process. Each
 * connection it accepts gets its own connection to the responder's TCP port,
 * and bytes are piped both ways (pipe() pauses the reader while the writer is
 * full, so nothing buffers without a bound). No framing, no WebSocket: it
 * does the least any user-space hop must do, read every byte and write it
 * again, so its throughput is the ceiling for the tunnel on the same machine.
 *
 * This file is both the parent's handle (RelayProcess) and, when forked, the
 * relay itself: the two are a few lines each and only make sense together.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = fileURLToPath(import.meta.url);
const START_TIMEOUT_MS = 20_000;

interface ReadyMessage {
  type: 'ready';
  port: number;
}

export class RelayProcess {
  readonly port: number;
  readonly #child: ChildProcess;
  readonly #exited: Promise<unknown>;

  private constructor(child: ChildProcess, port: number, exited: Promise<unknown>) {
    this.#child = child;
    this.port = port;
    this.#exited = exited;
  }

  /** Starts a relay in front of `targetPort` (the responder's plain TCP port) on 127.0.0.1. */
  static async start(options: { targetPort: number }): Promise<RelayProcess> {
    const child = fork(ENTRY, [String(options.targetPort)], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('The benchmark relay did not start within 20 s')), START_TIMEOUT_MS);
      child.once('message', (m: ReadyMessage) => {
        clearTimeout(timer);
        resolve(m.port);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`The benchmark relay exited (code ${code}) before it was ready`));
      });
    }).catch((err) => {
      child.kill('SIGKILL');
      throw err;
    });
    return new RelayProcess(child, port, exited);
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  /** Disconnects; the relay exits on that (see serve()). */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.disconnect();
    await this.#exited;
  }
}

function serve(targetPort: number): void {
  const server = createServer({ noDelay: true }, (client) => {
    const upstream = connect({ host: '127.0.0.1', port: targetPort, noDelay: true });
    // Either side failing or closing ends the pair; pipe() alone would leave the other open.
    const end = (socket: Socket) => () => socket.destroy();
    client.on('error', end(upstream)).on('close', end(upstream));
    upstream.on('error', end(client)).on('close', end(client));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.listen(0, '127.0.0.1', () => {
    const ready: ReadyMessage = { type: 'ready', port: (server.address() as { port: number }).port };
    process.send!(ready);
  });
  // The parent going away (even by a crash) must not leave this process behind.
  process.on('disconnect', () => process.exit(0));
}

if (process.argv[1] === ENTRY && process.send) serve(Number(process.argv[2]));
