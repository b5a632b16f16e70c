import type { TunnelEvent } from '../../../shared/stats.ts';

/** The page keeps this many recent events across all tunnels. */
export const EVENT_LIMIT = 1000;

/**
 * Merges events from the initial fetch and from pushes, which may overlap after a
 * reconnect: de-duplicated and ordered by the engine's sequence number.
 */
export function mergeEvents(current: readonly TunnelEvent[], incoming: readonly TunnelEvent[], limit = EVENT_LIMIT): TunnelEvent[] {
  if (incoming.length === 0) return current as TunnelEvent[];
  const bySeq = new Map<number, TunnelEvent>();
  for (const e of current) bySeq.set(e.seq, e);
  for (const e of incoming) bySeq.set(e.seq, e);
  const merged = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  return merged.length > limit ? merged.slice(-limit) : merged;
}
