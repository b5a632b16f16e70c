import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The parent's handle on the responder process (see responder-process.ts). */

export type ResponderRequest =
  | { id: number; type: 'configure'; responseBytes: number }
  | { id: number; type: 'stall' }
  | { id: number; type: 'resume' }
  | { id: number; type: 'status' };

export interface ResponderReply {
  id: number;
  /** Open connections of each kind, after the request was handled. */
  websocket: number;
  tcp: number;
}

type Command = ResponderRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = fileURLToPath(new URL('./responder-process.ts', import.meta.url));
const START_TIMEOUT_MS = 20_000;
const REPLY_TIMEOUT_MS = 10_000;

export class Responder {
  readonly wsPort: number;
  readonly tcpPort: number;
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, (reply: ResponderReply) => void>();
  #nextId = 1;

  private constructor(child: ChildProcess, ports: { wsPort: number; tcpPort: number }) {
    this.#child = child;
    this.wsPort = ports.wsPort;
    this.tcpPort = ports.tcpPort;
    child.on('message', (reply: ResponderReply) => {
      this.#waiting.get(reply.id)?.(reply);
      this.#waiting.delete(reply.id);
    });
  }

  static async start(): Promise<Responder> {
    const child = fork(ENTRY, [], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const ports = await new Promise<{ wsPort: number; tcpPort: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('The benchmark responder did not start within 20 s')), START_TIMEOUT_MS);
      child.once('message', (m: { type: string; wsPort: number; tcpPort: number }) => {
        clearTimeout(timer);
        resolve(m);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`The benchmark responder exited (code ${code}) before it was ready`));
      });
    });
    return new Responder(child, ports);
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  /** Sets the size of every later Produce and Fetch answer (whole frame, prefix included). */
  configure(responseBytes: number): Promise<ResponderReply> {
    return this.#request({ type: 'configure', responseBytes });
  }

  /** Stops reading every connection, as a broker that stops keeping up would. */
  stall(): Promise<ResponderReply> {
    return this.#request({ type: 'stall' });
  }

  resume(): Promise<ResponderReply> {
    return this.#request({ type: 'resume' });
  }

  status(): Promise<ResponderReply> {
    return this.#request({ type: 'status' });
  }

  /** Polls until the responder's WebSocket count satisfies `predicate`; false when it does not in time. */
  async waitForWebSockets(predicate: (count: number) => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (predicate((await this.status()).websocket)) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  }

  async close(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.disconnect();
    await exited;
  }

  #request(command: Command): Promise<ResponderReply> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`The benchmark responder did not answer "${command.type}" within 10 s`));
      }, REPLY_TIMEOUT_MS);
      this.#waiting.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.#child.send({ ...command, id });
    });
  }
}
