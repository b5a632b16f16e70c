import { kafkaAwareTunnelOptions } from './kafka-aware.ts';
import { TunnelManager, type TunnelManagerOptions } from './manager.ts';

/**
 * The engine as every host uses it (CLI, Electron main, headless dashboard): a
 * TunnelManager with the Kafka-aware session plugged into each tunnel.
 */
export function createEngine(options: Omit<TunnelManagerOptions, 'tunnelOptions'> = {}): TunnelManager {
  return new TunnelManager({ ...options, tunnelOptions: kafkaAwareTunnelOptions });
}
