import { useState } from 'react';
import type { EventKind, TunnelEvent } from '../../../shared/stats.ts';
import { formatClock } from '../format.ts';

const KIND_LABELS: Record<EventKind, string> = {
  'tunnel-started': 'Started',
  'tunnel-stopped': 'Stopped',
  'tunnel-error': 'Tunnel error',
  'connection-opened': 'Opened',
  'connection-closed': 'Closed',
  'broker-retry': 'Retry',
  'protocol-error': 'Protocol',
  rewrite: 'Rewrite',
  'legacy-fallback': 'Legacy',
  'unsupported-request': 'Unsupported',
  'parse-warning': 'Parse',
  warning: 'Warning',
};

/** Shown newest first; the page keeps a bounded history (state/events.ts). */
const SHOWN = 200;

export function EventLog({ events }: { events: readonly TunnelEvent[] }) {
  const [problemsOnly, setProblemsOnly] = useState(false);
  const shown = (problemsOnly ? events.filter((e) => e.level !== 'info') : events).slice(-SHOWN).reverse();
  return (
    <div className="event-log">
      <div className="section-tools">
        <label className="check">
          <input type="checkbox" checked={problemsOnly} onChange={(e) => setProblemsOnly(e.target.checked)} />
          Warnings and errors only
        </label>
      </div>
      {shown.length === 0 ? (
        <p className="empty-note">{problemsOnly ? 'No warnings or errors.' : 'Nothing has happened yet. Starting the tunnel and client connections are logged here.'}</p>
      ) : (
        <ol className="events" aria-label="Event log">
          {shown.map((e) => (
            <li key={e.seq} className={`event level-${e.level}`}>
              <time className="num" dateTime={new Date(e.time).toISOString()}>
                {formatClock(e.time)}
              </time>
              <span className={`kind kind-${e.level}`}>{KIND_LABELS[e.kind] ?? e.kind}</span>
              <span className="message">
                {e.message}
                {e.code && <code className="code">{e.code}</code>}
              </span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
