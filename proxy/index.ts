/**
 * Package entry: the library (`connect`, `kafkajsSocketFactory`) and the engine
 * for programs that host tunnels themselves.
 */
export { connect, kafkajsSocketFactory, type KafkaWebSocket, type KafkaWebSocketOptions } from './library.ts';
export { createEngine } from './engine.ts';
export { TunnelManager, type TunnelManagerOptions } from './manager.ts';
export { Tunnel, type TunnelOptions } from './tunnel.ts';
export { FrameSplitter, FrameError } from './framing.ts';
export { profileSchema, profilesFileSchema, type Profile, type ProfileInput } from '../shared/profile.ts';
export type { TunnelSnapshot, TunnelEvent, ApiStats, ConnectionSnapshot } from '../shared/stats.ts';
