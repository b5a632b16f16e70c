/** Display helpers the dashboard needs beyond shared/format.ts. */

const pad = (n: number) => String(n).padStart(2, '0');

/** Local wall-clock time, "14:03:27". */
export function formatClock(epochMs: number): string {
  const d = new Date(epochMs);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "just now", "42s", "3m 5s": how long ago, for the connections table. */
export function formatAge(sinceMs: number, nowMs: number): string {
  const s = Math.max(0, Math.floor((nowMs - sinceMs) / 1000));
  if (s < 1) return 'just now';
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

/** Latency for the API table; "—" when nothing was measured. */
export function formatLatency(ms: number, measured: boolean): string {
  if (!measured) return '—';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 10_000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}
