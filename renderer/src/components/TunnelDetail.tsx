import { bootstrapAddress, type Profile } from '../../../shared/profile.ts';
import type { TunnelEvent, TunnelSnapshot } from '../../../shared/stats.ts';
import type { ThroughputSeries } from '../state/throughput-history.ts';
import { ApiTable } from './ApiTable.tsx';
import { BootstrapPanel } from './BootstrapPanel.tsx';
import { ConnectionsTable } from './ConnectionsTable.tsx';
import { EventLog } from './EventLog.tsx';
import { StatCards, STATE_LABELS } from './StatCards.tsx';
import { ThroughputChart } from './ThroughputChart.tsx';

/** One tunnel's pane: controls, live cards, chart, client snippets, tables, log. */

export interface TunnelDetailProps {
  profile: Profile;
  snapshot: TunnelSnapshot;
  events: readonly TunnelEvent[];
  series: ThroughputSeries;
  now: number;
  busy: boolean;
  /** The last start/stop failure for this tunnel, as a sentence. */
  actionError: string | null;
  onToggle: (on: boolean) => void;
  onEdit: () => void;
  copy: (text: string) => Promise<void>;
}

/** The address a client should use, before and after the tunnel starts. */
/** The address clients should use, or null while the port is still to be chosen (port 0, stopped). */
export function expectedBootstrap(profile: Profile, snapshot: TunnelSnapshot): string | null {
  if (snapshot.bootstrap) return snapshot.bootstrap;
  if (profile.advertise) return profile.advertise;
  if (profile.listenPort === 0) return null;
  return bootstrapAddress({ host: profile.listenHost, port: profile.listenPort });
}

export function TunnelDetail({ profile, snapshot, events, series, now, busy, actionError, onToggle, onEdit, copy }: TunnelDetailProps) {
  const running = snapshot.state === 'running';
  const on = running || snapshot.state === 'starting';
  const bootstrap = expectedBootstrap(profile, snapshot);
  const target = profile.demoBroker ? 'Built-in demo broker' : (snapshot.brokerUrl ?? profile.broker);
  return (
    <article className="detail" aria-labelledby="detail-title">
      <header className="pane-header">
        <div className="pane-title">
          <h1 id="detail-title">
            <span className={`dot dot-${snapshot.state}`} aria-hidden="true" /> {profile.name}
          </h1>
          <p className="muted mono truncate" title={target}>
            → {target}
          </p>
        </div>
        <div className="pane-actions">
          <span className={`badge state-${snapshot.state}`}>{STATE_LABELS[snapshot.state]}</span>
          {snapshot.legacyBroker && (
            <span className="badge" title="The broker ignores ApiVersions; the tunnel answers it for modern clients">
              Legacy broker
            </span>
          )}
          <button type="button" className="btn" onClick={onEdit}>
            Edit
          </button>
          <button type="button" className={`btn ${on ? '' : 'btn-primary'}`} disabled={busy} onClick={() => onToggle(!on)}>
            {on ? 'Stop' : 'Start'}
          </button>
        </div>
      </header>

      {(actionError || snapshot.error) && (
        <div className="banner banner-error" role="alert">
          {actionError ?? snapshot.error?.message}
        </div>
      )}

      <StatCards snapshot={snapshot} now={now} />

      <section className="panel" aria-labelledby="h-throughput">
        <h2 id="h-throughput">Throughput</h2>
        <ThroughputChart series={series} />
      </section>

      <section className="panel" aria-labelledby="h-connect">
        <h2 id="h-connect">Connect a client</h2>
        {bootstrap ? (
          <BootstrapPanel bootstrap={bootstrap} copy={copy} />
        ) : (
          <p className="empty-note">This tunnel takes any free port; start it to get the address clients should use.</p>
        )}
      </section>

      <div className="panel-grid">
        <section className="panel" aria-labelledby="h-apis">
          <h2 id="h-apis">Kafka APIs</h2>
          <ApiTable apis={snapshot.apis} running={running} />
        </section>
        <section className="panel" aria-labelledby="h-connections">
          <h2 id="h-connections">
            Connections <span className="count num">{snapshot.connectionList.length}</span>
          </h2>
          <ConnectionsTable connections={snapshot.connectionList} running={running} bootstrap={snapshot.bootstrap} now={now} />
        </section>
      </div>

      <section className="panel" aria-labelledby="h-events">
        <h2 id="h-events">Events</h2>
        <EventLog events={events} />
      </section>
    </article>
  );
}
