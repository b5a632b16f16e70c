import type { Profile, ProfileInput } from './profile.ts';
import type { ThroughputSample, TunnelEvent, TunnelSnapshot } from './stats.ts';

/**
 * The one contract between the dashboard and whatever hosts the engine. Electron's
 * preload implements it over IPC; the browser bridge implements it over a
 * WebSocket to the headless CLI. Channel names live here, with their argument and
 * result types, and nowhere else.
 */

/** Result of "Test connection": each step that ran, and where it stopped. */
export interface ConnectionTestResult {
  ok: boolean;
  url: string;
  /** WebSocket handshake time in milliseconds, when it completed. */
  handshakeMs: number | null;
  /** Where it failed: dns, tcp, tls, http, timeout, protocol, config. */
  failure: { stage: 'config' | 'dns' | 'tcp' | 'tls' | 'http' | 'timeout' | 'protocol'; message: string; httpStatus?: number } | null;
  /** Null when the broker did not answer ApiVersions (0.8-era brokers do not). */
  apiVersions: { apiKey: number; name: string; minVersion: number; maxVersion: number }[] | null;
  brokers: { nodeId: number; host: string; port: number }[];
  topics: { name: string; partitions: number; errorCode: number }[];
}

export interface ImportResult {
  imported: number;
  /** Ids that were renamed to avoid clashing with existing profiles. */
  renamed: { from: string; to: string }[];
}

export interface AppInfo {
  version: string;
  /** 'electron' or 'dashboard' (headless CLI). */
  host: 'electron' | 'dashboard';
  platform: string;
  /** Whether secrets can be stored encrypted here. */
  secretStorage: boolean;
}

/** Request/response channels: name -> [argument tuple, result]. */
export interface InvokeChannels {
  'app:info': [[], AppInfo];
  'profiles:list': [[], Profile[]];
  'profiles:save': [[profile: ProfileInput], Profile];
  'profiles:delete': [[id: string], void];
  'profiles:export': [[options: { includeSecrets: boolean }], string];
  'profiles:import': [[json: string], ImportResult];
  'tunnels:start': [[id: string], TunnelSnapshot];
  'tunnels:stop': [[id: string], TunnelSnapshot];
  'tunnels:snapshots': [[], TunnelSnapshot[]];
  'tunnels:events': [[options: { tunnelId?: string; limit?: number }], TunnelEvent[]];
  /** Up to the last five minutes of 1 Hz rate samples, oldest first; [] for an id with none. */
  'tunnels:history': [[id: string], ThroughputSample[]];
  'tunnels:test': [[profile: ProfileInput], ConnectionTestResult];
  'clipboard:write': [[text: string], void];
}

/** Pushed from the host to the dashboard. */
export interface PushChannels {
  'push:stats': TunnelSnapshot[];
  'push:event': TunnelEvent;
  'push:profiles': Profile[];
}

export type InvokeChannel = keyof InvokeChannels;
export type PushChannel = keyof PushChannels;
export type InvokeArgs<C extends InvokeChannel> = InvokeChannels[C][0];
export type InvokeResult<C extends InvokeChannel> = InvokeChannels[C][1];

export const INVOKE_CHANNELS = [
  'app:info',
  'profiles:list',
  'profiles:save',
  'profiles:delete',
  'profiles:export',
  'profiles:import',
  'tunnels:start',
  'tunnels:stop',
  'tunnels:snapshots',
  'tunnels:events',
  'tunnels:history',
  'tunnels:test',
  'clipboard:write',
] as const satisfies readonly InvokeChannel[];

export const PUSH_CHANNELS = ['push:stats', 'push:event', 'push:profiles'] as const satisfies readonly PushChannel[];

export type Unsubscribe = () => void;

/** What the renderer sees as `window.kafkaTunnels` (or gets from the browser bridge). */
export interface KafkaTunnelsApi {
  invoke<C extends InvokeChannel>(channel: C, ...args: InvokeArgs<C>): Promise<InvokeResult<C>>;
  subscribe<C extends PushChannel>(channel: C, listener: (payload: PushChannels[C]) => void): Unsubscribe;
}
