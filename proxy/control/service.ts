import { ShimError } from '../../shared/errors.ts';
import type {
  AppInfo,
  ConnectionTestResult,
  InvokeChannel,
  InvokeResult,
  PushChannel,
  PushChannels,
} from '../../shared/api.ts';
import { findPortConflicts, redactProfile, type Profile } from '../../shared/profile.ts';
import type { TunnelEvent, TunnelSnapshot } from '../../shared/stats.ts';
import type { TunnelManager } from '../manager.ts';
import { isInvokeChannel, parseArgs, parseProfile, type ParsedArgs } from './arguments.ts';
import { exportProfiles, parseProfilesJson, planImport } from './profile-transfer.ts';
import { keepStoredSecrets } from './secrets.ts';
import { ThroughputRecorder } from './throughput-recorder.ts';

/**
 * The one implementation of the dashboard contract (shared/api.ts). Electron's IPC
 * handlers and the CLI's browser bridge both forward to it, so validation, secret
 * redaction and error codes are the same whichever host serves the dashboard.
 */

export interface ProfileRepository {
  /** Full profiles, secrets resolved: for the engine only, never for a caller. */
  list(): Promise<Profile[]>;
  get(id: string): Promise<Profile | undefined>;
  /** `input` is validated; a header without a value keeps the stored value. */
  save(input: Profile): Promise<Profile>;
  delete(id: string): Promise<void>;
}

export type TestConnection = (profile: Profile) => Promise<ConnectionTestResult>;

export interface ControlServiceOptions {
  repository: ProfileRepository;
  manager: TunnelManager;
  host: 'electron' | 'dashboard';
  version: string;
  /** Whether secret header values are stored encrypted on this host. */
  secretStorage: boolean;
  clipboard?: (text: string) => void | Promise<void>;
  /** proxy/connection-test.ts; absent, 'tunnels:test' answers NOT_AVAILABLE. */
  testConnection?: TestConnection;
  /** How often 'push:stats' goes out while someone listens. Default 1000 ms. */
  statsIntervalMs?: number;
  /** How often the throughput history takes a sample. Default 1000 ms. */
  historyIntervalMs?: number;
  /** Samples kept per tunnel for 'tunnels:history'. Default 300 (five minutes). */
  historySamples?: number;
  platform?: string;
}

export type PushListener = <C extends PushChannel>(channel: C, payload: PushChannels[C]) => void;

export interface PushOptions {
  /**
   * Whether this listener wants the once-a-second stats. The tray wants profile
   * changes but not stats, and must not keep the stats timer alive on its own.
   */
  stats?: boolean;
}

type Handlers = { [C in InvokeChannel]: (args: ParsedArgs<C>) => Promise<InvokeResult<C>> };

export class ControlService {
  readonly #options: ControlServiceOptions;
  readonly #repository: ProfileRepository;
  readonly #manager: TunnelManager;
  readonly #listeners = new Map<PushListener, PushOptions>();
  readonly #handlers: Handlers;
  readonly #history: ThroughputRecorder;
  #statsTimer: NodeJS.Timeout | null = null;
  #attached = false;
  #disposed = false;

  readonly #onEvent = (event: TunnelEvent) => this.#push('push:event', event);
  // A start or stop shows at once rather than at the next tick.
  readonly #onState = () => void this.#pushStats().catch(() => undefined);

  constructor(options: ControlServiceOptions) {
    this.#options = options;
    this.#repository = options.repository;
    this.#manager = options.manager;
    // Sampled whether or not anyone listens: the point is a chart that is already
    // full when a window opens.
    this.#history = new ThroughputRecorder({ manager: options.manager, intervalMs: options.historyIntervalMs, capacity: options.historySamples });
    this.#handlers = {
      'app:info': async () => this.#info(),
      'profiles:list': async () => (await this.#repository.list()).map(redactProfile),
      'profiles:save': ([input]) => this.#save(input),
      'profiles:delete': ([id]) => this.#delete(id),
      'profiles:export': async ([options]) => exportProfiles(await this.#repository.list(), options),
      'profiles:import': ([json]) => this.#import(json),
      'tunnels:start': ([id]) => this.#start(id),
      'tunnels:stop': ([id]) => this.#manager.stop(id),
      'tunnels:snapshots': () => this.#snapshots(),
      'tunnels:events': async ([options]) => this.#manager.events(options),
      'tunnels:history': async ([id]) => this.#history.history(id),
      'tunnels:test': ([input]) => this.#test(input),
      'clipboard:write': ([text]) => this.#clipboard(text),
    };
  }

  /** Validates `channel` and `args`; rejects with a ShimError carrying a code. */
  async invoke<C extends InvokeChannel>(channel: C, args: readonly unknown[]): Promise<InvokeResult<C>> {
    if (this.#disposed) throw new ShimError('INTERNAL', 'The application is shutting down');
    if (!isInvokeChannel(channel)) throw new ShimError('INVALID_ARGUMENT', `Unknown request ${String(channel)}`);
    const handler = this.#handlers[channel] as (args: ParsedArgs<C>) => Promise<InvokeResult<C>>;
    return handler(parseArgs(channel, args));
  }

  /** Subscribes to pushes; returns the disposer. */
  onPush(listener: PushListener, options: PushOptions = {}): () => void {
    this.#listeners.set(listener, { stats: options.stats ?? true });
    this.#updateSubscriptions();
    return () => {
      this.#listeners.delete(listener);
      this.#updateSubscriptions();
    };
  }

  dispose(): void {
    this.#disposed = true;
    this.#history.dispose();
    this.#listeners.clear();
    this.#updateSubscriptions();
  }

  #info(): AppInfo {
    return {
      version: this.#options.version,
      host: this.#options.host,
      platform: this.#options.platform ?? process.platform,
      secretStorage: this.#options.secretStorage,
    };
  }

  async #save(input: unknown): Promise<Profile> {
    const profile = parseProfile(input);
    const saved = await this.#repository.save(profile);
    if (this.#manager.isRunning(saved.id)) {
      // The save stands even if the restart fails; the failure shows on the tunnel
      // (state 'error' and an event), where the person looks for it.
      await this.#manager.update(saved).catch(() => undefined);
    }
    await this.#profilesChanged();
    return redactProfile(saved);
  }

  async #delete(id: string): Promise<void> {
    if (!(await this.#repository.get(id))) throw new ShimError('NOT_FOUND', `There is no profile with id ${id}`);
    await this.#manager.remove(id);
    await this.#repository.delete(id);
    this.#history.forget(id);
    await this.#profilesChanged();
  }

  async #import(json: string) {
    const incoming = parseProfilesJson(json);
    const existing = await this.#repository.list();
    const plan = planImport(incoming, existing.map((p) => p.id));
    for (const p of plan.profiles) await this.#repository.save(p);
    await this.#profilesChanged();
    return { imported: plan.profiles.length, renamed: plan.renamed };
  }

  async #start(id: string): Promise<TunnelSnapshot> {
    const profiles = await this.#repository.list();
    const profile = profiles.find((p) => p.id === id);
    if (!profile) throw new ShimError('NOT_FOUND', `There is no profile with id ${id}`);
    // A port held by another of our own tunnels gets a clearer message than the
    // operating system's "in use by another program".
    const running = profiles.filter((p) => p.id !== id && this.#manager.isRunning(p.id));
    const clash = findPortConflicts([profile, ...running]).get(id);
    if (clash !== undefined) {
      throw new ShimError(
        'PORT_CONFLICT',
        `Port ${profile.listenPort} is already used by the running tunnel "${clash}"; stop it first or choose another port`,
      );
    }
    return this.#manager.start(profile);
  }

  async #test(input: unknown): Promise<ConnectionTestResult> {
    const profile = parseProfile(input);
    const test = this.#options.testConnection;
    if (!test) throw new ShimError('NOT_AVAILABLE', 'Testing a connection is not available in this build');
    // The form sends secret headers without values; test with the stored ones.
    return test(keepStoredSecrets(profile, await this.#repository.get(profile.id)));
  }

  async #clipboard(text: string): Promise<void> {
    const write = this.#options.clipboard;
    if (!write) throw new ShimError('NOT_AVAILABLE', 'This host cannot write to the clipboard');
    await write(text);
  }

  async #snapshots(): Promise<TunnelSnapshot[]> {
    const profiles = await this.#repository.list();
    return profiles.map((p) => this.#manager.snapshot(p.id));
  }

  async #profilesChanged(): Promise<void> {
    if (this.#listeners.size === 0) return;
    const profiles = (await this.#repository.list()).map(redactProfile);
    this.#push('push:profiles', profiles);
    await this.#pushStats();
  }

  async #pushStats(): Promise<void> {
    if (![...this.#listeners.values()].some((o) => o.stats)) return;
    const snapshots = await this.#snapshots();
    this.#push('push:stats', snapshots, { statsOnly: true });
  }

  #push<C extends PushChannel>(channel: C, payload: PushChannels[C], options: { statsOnly?: boolean } = {}): void {
    for (const [listener, o] of [...this.#listeners]) {
      if (options.statsOnly && !o.stats) continue;
      try {
        listener(channel, payload);
      } catch {
        // One broken subscriber (a window being torn down) must not starve the others.
      }
    }
  }

  /** Timer and engine listeners exist only while someone listens. */
  #updateSubscriptions(): void {
    const wantsStats = [...this.#listeners.values()].some((o) => o.stats);
    if (wantsStats && !this.#statsTimer) {
      this.#statsTimer = setInterval(() => void this.#pushStats().catch(() => undefined), this.#options.statsIntervalMs ?? 1000);
      this.#statsTimer.unref();
    } else if (!wantsStats && this.#statsTimer) {
      clearInterval(this.#statsTimer);
      this.#statsTimer = null;
    }
    const wantsEngine = this.#listeners.size > 0;
    if (wantsEngine && !this.#attached) {
      this.#manager.on('event', this.#onEvent);
      this.#manager.on('state', this.#onState);
      this.#attached = true;
    } else if (!wantsEngine && this.#attached) {
      this.#manager.off('event', this.#onEvent);
      this.#manager.off('state', this.#onState);
      this.#attached = false;
    }
  }
}
