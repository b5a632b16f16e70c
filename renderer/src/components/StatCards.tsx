import { formatBytes, formatCount, formatRate } from '../../../shared/format.ts';
import type { DirectionStats, TunnelSnapshot, TunnelState } from '../../../shared/stats.ts';
import { formatAge } from '../format.ts';

/** The live cards at the top of a tunnel's pane (issue #6, "live cards"). */

export const STATE_LABELS: Record<TunnelState, string> = {
  stopped: 'Stopped',
  starting: 'Starting…',
  running: 'Running',
  stopping: 'Stopping…',
  error: 'Failed',
};

function DirectionCard({ title, stats, live }: { title: string; stats: DirectionStats; live: boolean }) {
  return (
    <div className="card" role="group" aria-label={title}>
      <div className="card-title">{title}</div>
      <div className="card-value num">{live ? formatRate(stats.bytesPerSec) : '—'}</div>
      <div className="card-sub num">
        {live ? `${formatCount(stats.framesPerSec)} frames/s` : 'idle'} · {formatBytes(stats.bytes)} total
      </div>
    </div>
  );
}

export function StatCards({ snapshot, now }: { snapshot: TunnelSnapshot; now: number }) {
  const live = snapshot.state === 'running';
  const { active, total, failed } = snapshot.connections;
  return (
    <div className="cards">
      <div className="card" role="group" aria-label="State">
        <div className="card-title">State</div>
        <div className={`card-value state-text state-${snapshot.state}`}>{STATE_LABELS[snapshot.state]}</div>
        <div className="card-sub num">
          {live && snapshot.startedAt !== null ? `for ${formatAge(snapshot.startedAt, now)}` : snapshot.error ? snapshot.error.code : 'not listening'}
        </div>
      </div>
      <div className="card" role="group" aria-label="Connections">
        <div className="card-title">Connections</div>
        <div className="card-value num">
          {active} <span className="card-unit">active</span>
        </div>
        <div className="card-sub num">
          {total} total{failed > 0 ? ` · ${failed} failed` : ''}
        </div>
      </div>
      <DirectionCard title="Client → broker" stats={snapshot.toBroker} live={live} />
      <DirectionCard title="Broker → client" stats={snapshot.toClient} live={live} />
    </div>
  );
}
