import type { HostPort, Profile } from '../shared/profile.ts';
import type { FrameInterceptor, InterceptorHooks } from './bridge-contract.ts';
import { ApiStatsCollector } from './kafka/api-stats.ts';
import { KafkaSession, type LegacyState } from './kafka/session.ts';
import type { Tunnel, TunnelOptions } from './tunnel.ts';

/**
 * Plugs the Kafka-aware session into tunnels and library sockets: one session per
 * connection, one stats collector and one "this broker is 0.8-era" flag per
 * tunnel, so the second connection to a legacy broker is answered at once.
 */

export function legacyFlag(): LegacyState {
  let known = false;
  return {
    known: () => known,
    mark: () => {
      known = true;
    },
    // A real broker that was merely slow to answer ApiVersions takes the verdict back.
    clear: () => {
      known = false;
    },
  };
}

export interface SessionContext {
  profile: Profile;
  /** Null leaves broker addresses alone (the library has no local address). */
  advertised: HostPort | null;
  legacy: LegacyState;
  /** Tunnel-wide collector, fed alongside the connection's own. */
  tunnelStats?: ApiStatsCollector;
  hooks: InterceptorHooks;
}

export function createSessionInterceptor(context: SessionContext): FrameInterceptor {
  const own = new ApiStatsCollector();
  const session = new KafkaSession({
    compatibility: context.profile.compatibility,
    advertised: context.advertised,
    legacyApiVersions: context.profile.legacyApiVersions,
    legacy: context.legacy,
    stats: context.tunnelStats ? [context.tunnelStats, own] : [own],
    sendToClient: context.hooks.sendToClient,
    sendToBroker: context.hooks.sendToBroker,
    onEvent: context.hooks.onEvent,
    close: context.hooks.close,
  });
  return {
    clientFrame: (frame) => session.clientFrame(frame),
    brokerFrame: (frame) => session.brokerFrame(frame),
    clientHead: (head, length) => session.clientHead(head, length),
    brokerHead: (head, length) => session.brokerHead(head, length),
    get inFlight() {
      return session.inFlight;
    },
    apis: () => own.snapshot(),
    dispose: () => session.dispose(),
  };
}

/** Per-tunnel options for TunnelManager: the session when the profile asks for it. */
export function kafkaAwareTunnelOptions(profile: Profile): TunnelOptions & { attach?: (tunnel: Tunnel) => void } {
  if (!profile.kafkaAware) return {};
  const stats = new ApiStatsCollector();
  const legacy = legacyFlag();
  return {
    interceptor: ({ advertised, hooks }) => createSessionInterceptor({ profile, advertised, legacy, tunnelStats: stats, hooks }),
    attach: (tunnel) => {
      tunnel.extras = () => ({ apis: stats.snapshot(), legacyBroker: legacy.known() });
    },
  };
}
