import type { InvokeArgs, InvokeChannel, InvokeResult, KafkaTunnelsApi, PushChannel, PushChannels, Unsubscribe } from '../../../shared/api.ts';
import { ShimError } from '../../../shared/errors.ts';
import { profileSchema, type Profile, type ProfileInput } from '../../../shared/profile.ts';
import { stoppedSnapshot, type ApiStats, type TunnelSnapshot } from '../../../shared/stats.ts';

/** A KafkaTunnelsApi for component tests: records calls, answers from handlers, pushes on demand. */

type Handler<C extends InvokeChannel> = (...args: InvokeArgs<C>) => InvokeResult<C> | Promise<InvokeResult<C>>;

export class FakeApi implements KafkaTunnelsApi {
  readonly calls: { channel: InvokeChannel; args: unknown[] }[] = [];
  readonly #handlers = new Map<InvokeChannel, Handler<never>>();
  readonly #listeners = new Map<PushChannel, Set<(payload: never) => void>>();

  handle<C extends InvokeChannel>(channel: C, handler: Handler<C>): this {
    this.#handlers.set(channel, handler as unknown as Handler<never>);
    return this;
  }

  invoke<C extends InvokeChannel>(channel: C, ...args: InvokeArgs<C>): Promise<InvokeResult<C>> {
    this.calls.push({ channel, args });
    const handler = this.#handlers.get(channel) as unknown as Handler<C> | undefined;
    if (!handler) return Promise.reject(new ShimError('NOT_AVAILABLE', `No fake for ${channel}`));
    try {
      return Promise.resolve(handler(...args));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  subscribe<C extends PushChannel>(channel: C, listener: (payload: PushChannels[C]) => void): Unsubscribe {
    let set = this.#listeners.get(channel);
    if (!set) this.#listeners.set(channel, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  push<C extends PushChannel>(channel: C, payload: PushChannels[C]): void {
    for (const l of this.#listeners.get(channel) ?? []) l(payload as never);
  }

  callsTo(channel: InvokeChannel): unknown[][] {
    return this.calls.filter((c) => c.channel === channel).map((c) => c.args);
  }
}

export function makeProfile(overrides: Partial<ProfileInput> = {}): Profile {
  return profileSchema.parse({ id: 'alpha', name: 'Alpha', broker: 'alpha.example.com:443', tls: true, listenPort: 9092, ...overrides });
}

export function apiStats(overrides: Partial<ApiStats> & Pick<ApiStats, 'apiKey' | 'name'>): ApiStats {
  return {
    requests: 0,
    responses: 0,
    errors: 0,
    local: 0,
    requestBytes: 0,
    responseBytes: 0,
    latencyMs: { p50: 0, p95: 0, p99: 0, max: 0 },
    ...overrides,
  };
}

export function runningSnapshot(id: string, overrides: Partial<TunnelSnapshot> = {}): TunnelSnapshot {
  return {
    ...stoppedSnapshot(id),
    state: 'running',
    listen: { host: '127.0.0.1', port: 9092 },
    bootstrap: 'localhost:9092',
    advertised: 'localhost:9092',
    brokerUrl: 'wss://alpha.example.com:443/',
    startedAt: Date.now() - 65_000,
    ...overrides,
  };
}

/** A FakeApi answering the calls the dashboard makes when it opens. */
export function dashboardApi(profiles: Profile[], snapshots: TunnelSnapshot[] = []): FakeApi {
  return new FakeApi()
    .handle('app:info', () => ({ version: '1.2.3', host: 'dashboard', platform: 'linux', secretStorage: false }))
    .handle('profiles:list', () => profiles)
    .handle('tunnels:snapshots', () => snapshots)
    .handle('tunnels:events', () => [])
    .handle('tunnels:history', () => []);
}

/**
 * A File as a file input hands it over. jsdom's File has no text(), which every
 * browser and Electron have; the component reads files with it.
 */
export function textFile(name: string, content: string): File {
  const file = new File([content], name, { type: 'application/json' });
  if (typeof file.text !== 'function') Object.defineProperty(file, 'text', { value: async () => content });
  return file;
}
