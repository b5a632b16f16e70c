import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { ShimError } from '../shared/errors.ts';
import {
  bootstrapAddress,
  brokerUrl,
  formatHostPort,
  headersMissingValues,
  isLoopbackHost,
  parseHostPort,
  reachableHost,
  type HostPort,
  type Profile,
} from '../shared/profile.ts';
import { stoppedSnapshot, type EventKind, type EventLevel, type TunnelEvent, type TunnelSnapshot, type TunnelState } from '../shared/stats.ts';
import { formatBytes, plural } from '../shared/format.ts';
import { Bridge } from './bridge.ts';
import type { BridgeEvent, FrameInterceptor, InterceptorHooks } from './bridge-contract.ts';
import { describeUrl, dial, loadCa, type DialTarget } from './dial.ts';
import { listenError } from './listen-errors.ts';
import { Counter, RateMeter } from './traffic.ts';

/**
 * One listener for one broker profile. Owns its bridges, publishes a snapshot and
 * events; a failure here never reaches another tunnel.
 */

export interface TunnelOptions {
  /** Dial this instead of the profile's broker (the embedded demo broker). */
  brokerUrl?: string;
  /**
   * Builds the per-connection frame interceptor (the Kafka-aware session).
   * `advertised` is where clients should come back to.
   */
  interceptor?: (context: InterceptorContext) => FrameInterceptor;
}

export interface InterceptorContext {
  profile: Profile;
  advertised: HostPort;
  connectionId: number;
  hooks: InterceptorHooks;
}

/** Extension point for what the tunnel reports beyond bytes (per-API stats). */
export interface TunnelExtras {
  apis: TunnelSnapshot['apis'];
  legacyBroker: boolean;
}

let eventSeq = 0;

/** Events across every tunnel share one increasing sequence. */
export function nextEventSeq(): number {
  return ++eventSeq;
}

export class Tunnel extends EventEmitter<{ event: [TunnelEvent] }> {
  readonly id: string;
  readonly profile: Profile;
  /** Per-API numbers and legacy detection; set by the Kafka-aware layer. */
  extras: (() => TunnelExtras) | null = null;

  readonly #options: TunnelOptions;
  readonly #bridges = new Map<number, Bridge>();
  readonly #toBroker = new Counter();
  readonly #toClient = new Counter();
  readonly #toBrokerRate = new RateMeter(this.#toBroker);
  readonly #toClientRate = new RateMeter(this.#toClient);
  #server: Server | null = null;
  #state: TunnelState = 'stopped';
  #error: { code: string; message: string } | null = null;
  #startedAt: number | null = null;
  #sampler: NodeJS.Timeout | null = null;
  #target: DialTarget | null = null;
  #advertised: HostPort | null = null;
  #listen: HostPort | null = null;
  #nextConnectionId = 1;
  #total = 0;
  #failed = 0;

  constructor(profile: Profile, options: TunnelOptions = {}) {
    super();
    this.id = profile.id;
    this.profile = profile;
    this.#options = options;
  }

  get state(): TunnelState {
    return this.#state;
  }

  /** The port it listens on (useful with listenPort 0); 0 while not listening. */
  get port(): number {
    return this.#listen?.port ?? 0;
  }

  get advertised(): HostPort | null {
    return this.#advertised;
  }

  async start(): Promise<void> {
    if (this.#state === 'running' || this.#state === 'starting') return;
    this.#state = 'starting';
    this.#error = null;
    try {
      this.#target = this.#dialTarget();
      this.#listen = await this.#listenOn(this.profile.listenHost, this.profile.listenPort);
    } catch (err) {
      const e = err instanceof ShimError ? err : new ShimError('INTERNAL', (err as Error).message, { cause: err });
      this.#state = 'error';
      this.#error = { code: e.code, message: e.message };
      this.#emitEvent('error', 'tunnel-error', e.message, { code: e.code });
      throw e;
    }
    this.#advertised = this.profile.advertise ? parseHostPort(this.profile.advertise) : this.#defaultAdvertised(this.#listen);
    this.#state = 'running';
    this.#startedAt = Date.now();
    this.#sampler = setInterval(() => this.#sample(), 1000);
    this.#sampler.unref();
    this.#emitEvent('info', 'tunnel-started', `Listening on ${formatHostPort(this.#listen)}, forwarding to ${describeUrl(this.#target.url)}`);
    if (!isLoopbackHost(this.profile.listenHost)) {
      this.#emitEvent('warn', 'warning', `Listening on ${this.profile.listenHost}: other computers on the network can reach this tunnel`, {
        code: 'NON_LOOPBACK_BIND',
      });
    }
  }

  /** Closes every connection; resolves once the port is free. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) {
      this.#state = this.#state === 'error' ? 'error' : 'stopped';
      return;
    }
    this.#state = 'stopping';
    this.#server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const bridge of this.#bridges.values()) bridge.destroy({ code: 'TUNNEL_STOPPED', message: 'Tunnel stopped' });
    await closed;
    if (this.#sampler) clearInterval(this.#sampler);
    this.#sampler = null;
    this.#state = 'stopped';
    this.#startedAt = null;
    this.#emitEvent('info', 'tunnel-stopped', 'Tunnel stopped');
  }

  snapshot(): TunnelSnapshot {
    const base = stoppedSnapshot(this.id);
    const extras = this.extras?.();
    const connectionList = [...this.#bridges.values()].slice(-200).map((b) => b.snapshot());
    return {
      ...base,
      state: this.#state,
      listen: this.#listen && this.#state === 'running' ? { ...this.#listen } : null,
      bootstrap: this.#listen && this.#state === 'running' ? bootstrapAddress(this.#listen) : null,
      advertised: this.#advertised && this.#state === 'running' ? formatHostPort(this.#advertised) : null,
      brokerUrl: this.#target ? describeUrl(this.#target.url) : null,
      error: this.#error,
      startedAt: this.#startedAt,
      connections: { active: this.#bridges.size, total: this.#total, failed: this.#failed },
      toBroker: this.#toBrokerRate.stats(),
      toClient: this.#toClientRate.stats(),
      apis: extras?.apis ?? [],
      connectionList,
      legacyBroker: extras?.legacyBroker ?? false,
    };
  }

  #dialTarget(): DialTarget {
    const missing = headersMissingValues(this.profile);
    if (missing.length > 0) {
      throw new ShimError('SECRET_MISSING', `Header ${missing.join(', ')} has no value; enter it again in the profile`);
    }
    const headers: Record<string, string> = {};
    for (const h of this.profile.headers) headers[h.name] = h.value ?? '';
    return {
      url: this.#options.brokerUrl ?? brokerUrl(this.profile),
      headers,
      ca: loadCa(this.profile.caFile),
      rejectUnauthorized: this.profile.tlsVerify,
      httpProxy: this.profile.httpProxy,
      maxPayload: this.profile.maxFrameBytes + 4,
    };
  }

  #listenOn(host: string, port: number): Promise<HostPort> {
    return new Promise((resolve, reject) => {
      const server = createServer({ noDelay: true, allowHalfOpen: true }, (socket) => this.#accept(socket));
      server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, host, port)));
      server.listen({ host, port, exclusive: true }, () => {
        server.removeAllListeners('error');
        server.on('error', (err) => this.#emitEvent('error', 'tunnel-error', `Listener error: ${err.message}`, { code: 'LISTENER_ERROR' }));
        this.#server = server;
        const address = server.address();
        resolve(typeof address === 'object' && address ? { host, port: address.port } : { host, port });
      });
    });
  }

  #accept(socket: Socket): void {
    if (this.#state !== 'running' || !this.#target) {
      socket.destroy();
      return;
    }
    const id = this.#nextConnectionId++;
    const target = this.#target;
    const profile = this.profile;
    this.#total++;
    const factory = this.#options.interceptor;
    const advertised = this.#advertised;
    const bridge = new Bridge({
      id,
      client: socket,
      connect: (signal, onRetry) =>
        dial(target, { timeoutMs: profile.connectTimeoutMs, attempts: profile.connectRetries, retryDelayMs: profile.retryDelayMs }, { signal, onRetry }),
      maxFrameBytes: profile.maxFrameBytes,
      keepaliveMs: profile.keepaliveMs,
      traffic: { toBroker: this.#toBroker, toClient: this.#toClient },
      interceptor: factory && advertised ? (hooks) => factory({ profile, advertised, connectionId: id, hooks }) : undefined,
    });
    this.#bridges.set(id, bridge);
    this.#emitEvent('info', 'connection-opened', `Connection ${id} from ${bridge.clientAddress}`, { connectionId: id });
    bridge.on('event', (e: BridgeEvent) => this.#emitEvent(e.level, e.kind, `Connection ${id}: ${e.message}`, { connectionId: id, code: e.code }));
    bridge.once('close', (reason) => {
      this.#bridges.delete(id);
      if (reason.level === 'error') this.#failed++;
      const traffic = `sent ${formatBytes(bridge.toBroker.bytes)} in ${plural(bridge.toBroker.frames, 'frame')}, received ${formatBytes(bridge.toClient.bytes)} in ${plural(bridge.toClient.frames, 'frame')}`;
      this.#emitEvent(reason.level, 'connection-closed', `Connection ${id} from ${bridge.clientAddress} closed: ${reason.message} (${traffic})`, {
        connectionId: id,
        code: reason.code,
      });
    });
  }

  #defaultAdvertised(listen: HostPort): HostPort {
    // A wildcard bind has no single address to hand out; loopback is what works locally.
    return { host: reachableHost(listen.host), port: listen.port };
  }

  #sample(): void {
    const now = Date.now();
    this.#toBrokerRate.sample(now);
    this.#toClientRate.sample(now);
  }

  #emitEvent(level: EventLevel, kind: EventKind, message: string, extra: { code?: string; connectionId?: number } = {}): void {
    const event: TunnelEvent = { seq: nextEventSeq(), tunnelId: this.id, time: Date.now(), level, kind, message, ...extra };
    this.emit('event', event);
  }
}
