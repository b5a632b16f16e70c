import type { InvokeArgs, InvokeChannel, InvokeResult, KafkaTunnelsApi, PushChannel, PushChannels, Unsubscribe } from '../../../shared/api.ts';
import { parseRpcServerMessage, type RpcRequest } from '../../../shared/dashboard-rpc.ts';
import { ShimError, deserializeError } from '../../../shared/errors.ts';

/**
 * KafkaTunnelsApi over a WebSocket to the headless CLI's dashboard server: the
 * browser's counterpart of Electron's preload. Reconnects by itself, so a
 * dashboard left open survives a dropped connection; calls made while it is down
 * wait for the next connection instead of failing.
 */

export type BridgeStatus = 'connecting' | 'open' | 'closed';

export interface BrowserBridgeOptions {
  /** ws:// URL of the RPC endpoint, token included. */
  url: string;
  /** Injected by tests; the page's WebSocket otherwise. */
  WebSocket?: typeof WebSocket;
  /** First reconnect delay; doubles up to maxReconnectDelayMs. */
  reconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
}

interface Pending {
  text: string;
  /** Written to a socket: its reply dies with that socket. */
  sent: boolean;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export class BrowserBridge implements KafkaTunnelsApi {
  readonly #url: string;
  readonly #WebSocket: typeof WebSocket;
  readonly #baseDelay: number;
  readonly #maxDelay: number;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Map<PushChannel, Set<(payload: never) => void>>();
  readonly #statusListeners = new Set<(status: BridgeStatus) => void>();
  #socket: WebSocket | null = null;
  #status: BridgeStatus = 'connecting';
  #nextId = 1;
  #delay: number;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  constructor(options: BrowserBridgeOptions) {
    this.#url = options.url;
    this.#WebSocket = options.WebSocket ?? WebSocket;
    this.#baseDelay = options.reconnectDelayMs ?? 500;
    this.#maxDelay = options.maxReconnectDelayMs ?? 5000;
    this.#delay = this.#baseDelay;
    this.#connect();
  }

  get status(): BridgeStatus {
    return this.#status;
  }

  invoke<C extends InvokeChannel>(channel: C, ...args: InvokeArgs<C>): Promise<InvokeResult<C>> {
    if (this.#closed) return Promise.reject(new ShimError('DISCONNECTED', 'The dashboard is closed.'));
    const id = this.#nextId++;
    const request: RpcRequest = { id, channel, args };
    return new Promise<InvokeResult<C>>((resolve, reject) => {
      const pending: Pending = { text: JSON.stringify(request), sent: false, resolve: resolve as (value: unknown) => void, reject };
      this.#pending.set(id, pending);
      if (this.#status === 'open') this.#write(pending);
    });
  }

  subscribe<C extends PushChannel>(channel: C, listener: (payload: PushChannels[C]) => void): Unsubscribe {
    let set = this.#listeners.get(channel);
    if (!set) {
      set = new Set();
      this.#listeners.set(channel, set);
    }
    const entry = listener as (payload: never) => void;
    set.add(entry);
    return () => set.delete(entry);
  }

  /** Connection changes, so the page can say "reconnecting" and refetch after. */
  onStatus(listener: (status: BridgeStatus) => void): Unsubscribe {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#socket?.close();
    this.#failPending('The dashboard is closed.', { all: true });
    this.#setStatus('closed');
  }

  #connect(): void {
    this.#setStatus('connecting');
    const socket = new this.#WebSocket(this.#url);
    this.#socket = socket;
    socket.addEventListener('open', () => {
      this.#delay = this.#baseDelay;
      this.#setStatus('open');
      for (const pending of this.#pending.values()) if (!pending.sent) this.#write(pending);
    });
    socket.addEventListener('message', (event: MessageEvent) => {
      if (typeof event.data === 'string') this.#receive(event.data);
    });
    socket.addEventListener('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      // A reply to a request sent on this socket can no longer arrive.
      this.#failPending('The connection to the dashboard server was lost; try again.', { all: false });
      if (this.#closed) return;
      this.#setStatus('closed');
      this.#timer = setTimeout(() => this.#connect(), this.#delay);
      this.#delay = Math.min(this.#delay * 2, this.#maxDelay);
    });
  }

  #write(pending: Pending): void {
    this.#socket?.send(pending.text);
    pending.sent = true;
  }

  #receive(text: string): void {
    let message;
    try {
      message = parseRpcServerMessage(JSON.parse(text));
    } catch {
      return;
    }
    if (!message) return;
    if ('push' in message) {
      for (const listener of this.#listeners.get(message.push) ?? []) listener(message.payload as never);
      return;
    }
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id);
    if (message.ok) pending.resolve(message.value);
    else pending.reject(deserializeError(message.error));
  }

  /** Requests not yet written wait for the next connection unless `all`. */
  #failPending(reason: string, options: { all: boolean }): void {
    for (const [id, pending] of this.#pending) {
      if (!options.all && !pending.sent) continue;
      this.#pending.delete(id);
      pending.reject(new ShimError('DISCONNECTED', reason));
    }
  }

  #setStatus(status: BridgeStatus): void {
    if (this.#status === status) return;
    this.#status = status;
    for (const listener of this.#statusListeners) listener(status);
  }
}
