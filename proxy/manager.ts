import { EventEmitter } from 'node:events';
import { ShimError } from '../shared/errors.ts';
import { parseHostPort, reachableHost, type HostPort, type Profile } from '../shared/profile.ts';
import { stoppedSnapshot, type TunnelEvent, type TunnelSnapshot } from '../shared/stats.ts';
import { Tunnel, nextEventSeq, type TunnelOptions } from './tunnel.ts';

/**
 * Many tunnels keyed by profile id. Each tunnel fails alone: an error in one is
 * reported on it and never stops another.
 */

export interface EmbeddedBroker {
  url: string;
  close(): Promise<void>;
}

export interface TunnelManagerOptions {
  /** Starts the built-in demo broker for `demoBroker` profiles. */
  startDemoBroker?: (options: { advertise?: HostPort }) => Promise<EmbeddedBroker>;
  /** Extra options for every tunnel (the Kafka-aware layer plugs in here). */
  tunnelOptions?: (profile: Profile) => TunnelOptions & { attach?: (tunnel: Tunnel) => void };
  /** Recent events kept for late subscribers. */
  eventHistory?: number;
}

interface Entry {
  profile: Profile;
  tunnel: Tunnel | null;
  demo: EmbeddedBroker | null;
  /** The last failure, kept after the tunnel object is gone. */
  failed: TunnelSnapshot | null;
  /** Serialises start/stop on one id so clicks in quick succession cannot interleave. */
  queue: Promise<unknown>;
}

export class TunnelManager extends EventEmitter<{ event: [TunnelEvent]; state: [TunnelSnapshot] }> {
  readonly #entries = new Map<string, Entry>();
  readonly #options: TunnelManagerOptions;
  readonly #history: TunnelEvent[] = [];
  readonly #historyLimit: number;

  constructor(options: TunnelManagerOptions = {}) {
    super();
    this.#options = options;
    this.#historyLimit = options.eventHistory ?? 1000;
  }

  start(profile: Profile): Promise<TunnelSnapshot> {
    return this.#serialise(profile.id, profile, async (entry) => {
      entry.profile = profile;
      if (entry.tunnel?.state === 'running') return entry.tunnel.snapshot();
      await this.#startEntry(entry);
      return this.snapshot(profile.id);
    });
  }

  stop(id: string): Promise<TunnelSnapshot> {
    const entry = this.#entries.get(id);
    if (!entry) return Promise.resolve(stoppedSnapshot(id));
    return this.#serialise(id, entry.profile, async (e) => {
      await this.#stopEntry(e);
      e.failed = null;
      const snap = this.snapshot(id);
      this.emit('state', snap);
      return snap;
    });
  }

  restart(profile: Profile): Promise<TunnelSnapshot> {
    return this.#serialise(profile.id, profile, async (entry) => {
      await this.#stopEntry(entry);
      entry.profile = profile;
      await this.#startEntry(entry);
      return this.snapshot(profile.id);
    });
  }

  /** Records a changed profile; a running tunnel restarts only if a setting changed. */
  update(profile: Profile): Promise<TunnelSnapshot> {
    const entry = this.#entries.get(profile.id);
    const running = entry?.tunnel?.state === 'running';
    if (!entry || !running) {
      if (entry) entry.profile = profile;
      return Promise.resolve(this.snapshot(profile.id));
    }
    if (JSON.stringify(entry.profile) === JSON.stringify(profile)) return Promise.resolve(this.snapshot(profile.id));
    return this.restart(profile);
  }

  async remove(id: string): Promise<void> {
    if (!this.#entries.has(id)) return;
    await this.stop(id);
    this.#entries.delete(id);
  }

  isRunning(id: string): boolean {
    return this.#entries.get(id)?.tunnel?.state === 'running';
  }

  snapshot(id: string): TunnelSnapshot {
    const entry = this.#entries.get(id);
    if (!entry) return stoppedSnapshot(id);
    if (entry.tunnel) return entry.tunnel.snapshot();
    return entry.failed ?? stoppedSnapshot(id);
  }

  snapshots(): TunnelSnapshot[] {
    return [...this.#entries.keys()].map((id) => this.snapshot(id));
  }

  events(options: { tunnelId?: string; limit?: number } = {}): TunnelEvent[] {
    const limit = Math.max(0, Math.min(options.limit ?? this.#historyLimit, this.#historyLimit));
    const matching = options.tunnelId ? this.#history.filter((e) => e.tunnelId === options.tunnelId) : this.#history;
    return limit === 0 ? [] : matching.slice(-limit);
  }

  async stopAll(): Promise<void> {
    await Promise.allSettled([...this.#entries.keys()].map((id) => this.stop(id)));
  }

  #serialise<T>(id: string, profile: Profile, work: (entry: Entry) => Promise<T>): Promise<T> {
    let entry = this.#entries.get(id);
    if (!entry) {
      entry = { profile, tunnel: null, demo: null, failed: null, queue: Promise.resolve() };
      this.#entries.set(id, entry);
    }
    const e = entry;
    const result = e.queue.then(() => work(e));
    e.queue = result.catch(() => undefined);
    return result;
  }

  async #startEntry(entry: Entry): Promise<void> {
    const profile = entry.profile;
    const extra = this.#options.tunnelOptions?.(profile) ?? {};
    let brokerUrl: string | undefined;
    if (profile.demoBroker) {
      try {
        entry.demo = await this.#startDemo(demoAdvertise(profile));
      } catch (err) {
        this.#recordFailure(entry, 'DEMO_BROKER_FAILED', `The built-in demo broker did not start: ${(err as Error).message}`);
        throw new ShimError('DEMO_BROKER_FAILED', `The built-in demo broker did not start: ${(err as Error).message}`, { cause: err });
      }
      brokerUrl = entry.demo.url;
    }
    const tunnel = new Tunnel(profile, { ...extra, brokerUrl: brokerUrl ?? extra.brokerUrl });
    extra.attach?.(tunnel);
    tunnel.on('event', (event) => this.#record(event));
    entry.tunnel = tunnel;
    entry.failed = null;
    try {
      await tunnel.start();
    } catch (err) {
      entry.failed = tunnel.snapshot();
      entry.tunnel = null;
      await this.#closeDemo(entry);
      this.emit('state', entry.failed);
      throw err;
    }
    this.emit('state', tunnel.snapshot());
  }

  async #stopEntry(entry: Entry): Promise<void> {
    const tunnel = entry.tunnel;
    entry.tunnel = null;
    if (tunnel) await tunnel.stop();
    await this.#closeDemo(entry);
  }

  async #startDemo(advertise: HostPort | undefined): Promise<EmbeddedBroker> {
    if (this.#options.startDemoBroker) return this.#options.startDemoBroker({ advertise });
    const { startDemoBroker } = await import('./demo-broker/index.ts');
    return startDemoBroker({ advertise });
  }

  async #closeDemo(entry: Entry): Promise<void> {
    const demo = entry.demo;
    entry.demo = null;
    if (demo) await demo.close().catch(() => undefined);
  }

  #recordFailure(entry: Entry, code: string, message: string): void {
    entry.failed = { ...stoppedSnapshot(entry.profile.id), state: 'error', error: { code, message } };
    this.#record({ seq: nextEventSeq(), tunnelId: entry.profile.id, time: Date.now(), level: 'error', kind: 'tunnel-error', message, code });
    this.emit('state', entry.failed);
  }

  #record(event: TunnelEvent): void {
    this.#history.push(event);
    if (this.#history.length > this.#historyLimit) this.#history.splice(0, this.#history.length - this.#historyLimit);
    this.emit('event', event);
  }
}

/**
 * The demo broker advertises the tunnel's own address when it is known in advance,
 * so clients come back through the tunnel even with the Kafka-aware session off.
 */
function demoAdvertise(profile: Profile): HostPort | undefined {
  if (profile.advertise) return parseHostPort(profile.advertise) ?? undefined;
  if (profile.listenPort === 0) return undefined;
  return { host: reachableHost(profile.listenHost), port: profile.listenPort };
}
