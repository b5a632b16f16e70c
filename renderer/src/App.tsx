import { useCallback, useEffect, useMemo, useState } from 'react';
import type { KafkaTunnelsApi } from '../../shared/api.ts';
import type { Profile } from '../../shared/profile.ts';
import { stoppedSnapshot } from '../../shared/stats.ts';
import type { BridgeStatus } from './bridge/browser-bridge.ts';
import { ProfileTransfer } from './components/ProfileTransfer.tsx';
import { Sidebar } from './components/Sidebar.tsx';
import { TunnelDetail } from './components/TunnelDetail.tsx';
import { ProfileEditor } from './editor/ProfileEditor.tsx';
import { emptyForm, formFromProfile } from './editor/form.ts';
import { useDashboard } from './state/use-dashboard.ts';

/** The dashboard: profiles on the left, the selected tunnel or the editor on the right. */

type View = { kind: 'tunnel'; id: string } | { kind: 'edit'; id: string } | { kind: 'new' } | { kind: 'none' };

export interface AppProps {
  api: KafkaTunnelsApi;
  onStatus?: (listener: (status: BridgeStatus) => void) => () => void;
}

export function App({ api, onStatus }: AppProps) {
  const data = useDashboard(api, onStatus);
  const { profiles, snapshots, applySnapshot, applyProfiles, history, seedHistory, generation } = data;
  const [chosen, setView] = useState<View>({ kind: 'none' });
  const view = resolveView(chosen, profiles);
  const [busy, setBusy] = useState<ReadonlySet<string>>(new Set());
  const [actionErrors, setActionErrors] = useState<ReadonlyMap<string, string>>(new Map());

  const toggle = useCallback(
    async (id: string, on: boolean) => {
      setBusy((b) => new Set(b).add(id));
      setActionErrors((m) => {
        const next = new Map(m);
        next.delete(id);
        return next;
      });
      try {
        applySnapshot(await api.invoke(on ? 'tunnels:start' : 'tunnels:stop', id));
      } catch (err) {
        setActionErrors((m) => new Map(m).set(id, (err as Error).message));
      } finally {
        setBusy((b) => {
          const next = new Set(b);
          next.delete(id);
          return next;
        });
      }
    },
    [api, applySnapshot],
  );

  const copy = useCallback(
    async (text: string) => {
      // Electron's sandboxed page copies through main; a browser has its own clipboard.
      if (data.info?.host === 'electron') return api.invoke('clipboard:write', text);
      if (!navigator.clipboard) throw new Error('The clipboard is not available on this page.');
      await navigator.clipboard.writeText(text);
    },
    [api, data.info?.host],
  );

  const saved = (profile: Profile) => {
    const exists = profiles.some((p) => p.id === profile.id);
    applyProfiles(exists ? profiles.map((p) => (p.id === profile.id ? profile : p)) : [...profiles, profile]);
    setView({ kind: 'tunnel', id: profile.id });
  };

  const remove = async (id: string) => {
    try {
      await api.invoke('profiles:delete', id);
      history.forget(id);
      applyProfiles(profiles.filter((p) => p.id !== id));
      setView({ kind: 'none' });
    } catch (err) {
      setActionErrors((m) => new Map(m).set(id, (err as Error).message));
      setView({ kind: 'tunnel', id });
    }
  };

  const selectedId = view.kind === 'tunnel' || view.kind === 'edit' ? view.id : null;
  const selected = profiles.find((p) => p.id === selectedId) ?? null;
  const others = useMemo(() => profiles.filter((p) => p.id !== selectedId), [profiles, selectedId]);
  const snapshotOf = (id: string) => snapshots.get(id) ?? stoppedSnapshot(id);

  // The chart opens on the host's last five minutes, and fills any gap after a reconnect.
  const shownTunnel = view.kind === 'tunnel' ? selectedId : null;
  useEffect(() => {
    if (shownTunnel) seedHistory(shownTunnel);
  }, [shownTunnel, seedHistory, generation]);

  if (data.phase !== 'ready') {
    return <StartupScreen phase={data.phase} error={data.loadError} connection={data.connection} hasBridge={Boolean(onStatus)} onRetry={data.reload} />;
  }

  let main;
  if (view.kind === 'new') {
    main = (
      <ProfileEditor
        key="new"
        api={api}
        initial={emptyForm(profiles)}
        others={profiles}
        running={false}
        onSaved={saved}
        onCancel={() => setView(profiles.length > 0 ? { kind: 'tunnel', id: profiles[0].id } : { kind: 'none' })}
      />
    );
  } else if (view.kind === 'edit' && selected) {
    main = (
      <ProfileEditor
        key={`edit-${selected.id}`}
        api={api}
        initial={formFromProfile(selected)}
        others={others}
        running={snapshotOf(selected.id).state === 'running'}
        onSaved={saved}
        onCancel={() => setView({ kind: 'tunnel', id: selected.id })}
        onDelete={() => remove(selected.id)}
      />
    );
  } else if (selected) {
    const events = data.events.filter((e) => e.tunnelId === selected.id);
    main = (
      <TunnelDetail
        key={selected.id}
        profile={selected}
        snapshot={snapshotOf(selected.id)}
        events={events}
        series={history.series(selected.id)}
        now={data.now}
        busy={busy.has(selected.id)}
        actionError={actionErrors.get(selected.id) ?? null}
        onToggle={(on) => void toggle(selected.id, on)}
        onEdit={() => setView({ kind: 'edit', id: selected.id })}
        copy={copy}
      />
    );
  } else {
    main = (
      <div className="empty-state">
        <h1>No tunnels yet</h1>
        <p>A profile turns a broker that is only reachable over WebSocket into a local Kafka address, such as localhost:9092, for any Kafka client.</p>
        <button type="button" className="btn btn-primary" onClick={() => setView({ kind: 'new' })}>
          Create a profile
        </button>
      </div>
    );
  }

  return (
    <div className="app">
      <Sidebar
        profiles={profiles}
        snapshots={snapshots}
        selectedId={view.kind === 'new' ? null : selectedId}
        busy={busy}
        onSelect={(id) => setView({ kind: 'tunnel', id })}
        onToggle={(id, on) => void toggle(id, on)}
        onNew={() => setView({ kind: 'new' })}
        footer={
          <>
            <ProfileTransfer api={api} onImported={applyProfiles} />
            <span className="about num">
              <span className={`dot dot-${data.connection === 'open' ? 'running' : 'error'}`} aria-hidden="true" />
              {data.info ? `v${data.info.version} · ${data.info.host === 'electron' ? 'Desktop' : 'Headless dashboard'}` : ''}
            </span>
          </>
        }
      />
      <main className="main">
        {data.connection !== 'open' && (
          <div className="banner banner-warn" role="status">
            The connection to the dashboard server was lost. Reconnecting…
          </div>
        )}
        {main}
      </main>
    </div>
  );
}

/** What to show: the chosen view while it still exists, else the first tunnel (no flash of an empty state). */
function resolveView(chosen: View, profiles: readonly Profile[]): View {
  if (chosen.kind === 'new') return chosen;
  if (chosen.kind !== 'none' && profiles.some((p) => p.id === chosen.id)) return chosen;
  return profiles.length > 0 ? { kind: 'tunnel', id: profiles[0].id } : { kind: 'none' };
}

function StartupScreen({
  phase,
  error,
  connection,
  hasBridge,
  onRetry,
}: {
  phase: 'loading' | 'failed';
  error: string | null;
  connection: BridgeStatus;
  hasBridge: boolean;
  onRetry: () => void;
}) {
  if (phase === 'loading' && !(hasBridge && connection === 'closed')) {
    return (
      <div className="startup" role="status">
        <span className="spinner" aria-hidden="true" /> Loading tunnels…
      </div>
    );
  }
  return (
    <div className="startup" role="alert">
      <h1>The dashboard cannot reach its server</h1>
      {hasBridge ? (
        <p>
          Is <code>kafka-websocket-proxy --dashboard</code> still running? Open the address it printed: it carries the access token, and a page
          without it is refused.
        </p>
      ) : (
        <p>{error ?? 'The app did not answer.'}</p>
      )}
      {error && hasBridge && <p className="muted">{error}</p>}
      <button type="button" className="btn" onClick={onRetry}>
        Try again
      </button>
    </div>
  );
}
