import { useCallback, useEffect, useRef, useState } from 'react';
import type { AppInfo, KafkaTunnelsApi } from '../../../shared/api.ts';
import type { Profile } from '../../../shared/profile.ts';
import type { TunnelEvent, TunnelSnapshot } from '../../../shared/stats.ts';
import type { BridgeStatus } from '../bridge/browser-bridge.ts';
import { mergeEvents } from './events.ts';
import { ThroughputHistory } from './throughput-history.ts';

/**
 * Everything the dashboard shows, kept current from the host: one fetch when the
 * page opens (and after a reconnect), then pushes; a tunnel's throughput history
 * is fetched when it is shown (seedHistory). Subscribing first and
 * fetching second means nothing that happens in between is lost.
 */

export interface DashboardState {
  phase: 'loading' | 'ready' | 'failed';
  loadError: string | null;
  info: AppInfo | null;
  profiles: Profile[];
  snapshots: ReadonlyMap<string, TunnelSnapshot>;
  events: TunnelEvent[];
  history: ThroughputHistory;
  /** Browser bridge only; Electron's IPC is always 'open'. */
  connection: BridgeStatus;
  /** Wall clock of the last stats push, so ages tick with the numbers. */
  now: number;
  /** Counts (re)loads; a view that fetches more on load keys its effect on it. */
  generation: number;
}

export interface Dashboard extends DashboardState {
  reload: () => void;
  /** Applies a snapshot returned by start/stop before the next push arrives. */
  applySnapshot: (snapshot: TunnelSnapshot) => void;
  applyProfiles: (profiles: Profile[]) => void;
  /** Fetches the host's recent throughput for one tunnel into `history`. */
  seedHistory: (id: string) => void;
}

function byId(snapshots: readonly TunnelSnapshot[]): Map<string, TunnelSnapshot> {
  return new Map(snapshots.map((s) => [s.id, s]));
}

export function useDashboard(api: KafkaTunnelsApi, onStatus?: (listener: (status: BridgeStatus) => void) => () => void): Dashboard {
  const history = useRef(new ThroughputHistory()).current;
  const [phase, setPhase] = useState<DashboardState['phase']>('loading');
  const [loadError, setLoadError] = useState<string | null>(null);
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [profiles, setProfiles] = useState<Profile[]>([]);
  const [snapshots, setSnapshots] = useState<ReadonlyMap<string, TunnelSnapshot>>(new Map());
  const [events, setEvents] = useState<TunnelEvent[]>([]);
  const [connection, setConnection] = useState<BridgeStatus>('open');
  const [now, setNow] = useState(() => Date.now());
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  // `history` is mutable; this re-renders the chart once a seed lands.
  const [, setSeeded] = useState(0);

  useEffect(() => {
    let live = true;
    const unsubscribe = [
      api.subscribe('push:stats', (list) => {
        const t = Date.now();
        history.add(list, t);
        setNow(t);
        setSnapshots(byId(list));
      }),
      api.subscribe('push:event', (event) => setEvents((current) => mergeEvents(current, [event]))),
      api.subscribe('push:profiles', (list) => setProfiles(list)),
    ];
    Promise.all([api.invoke('app:info'), api.invoke('profiles:list'), api.invoke('tunnels:snapshots'), api.invoke('tunnels:events', { limit: 500 })]).then(
      ([appInfo, list, snaps, recent]) => {
        if (!live) return;
        setInfo(appInfo);
        setProfiles(list);
        setSnapshots(byId(snaps));
        setEvents((current) => mergeEvents(current, recent));
        setLoadError(null);
        setPhase('ready');
      },
      (err: Error) => {
        if (!live) return;
        setLoadError(err.message);
        setPhase((p) => (p === 'ready' ? p : 'failed'));
      },
    );
    return () => {
      live = false;
      for (const u of unsubscribe) u();
    };
  }, [api, generation, history]);

  useEffect(() => {
    if (!onStatus) return;
    let wasDown = false;
    return onStatus((status) => {
      setConnection(status);
      if (status === 'closed') wasDown = true;
      // Pushes sent while we were away are gone: fetch everything again.
      if (status === 'open' && wasDown) {
        wasDown = false;
        reload();
      }
    });
  }, [onStatus, reload]);

  const applySnapshot = useCallback((snapshot: TunnelSnapshot) => {
    setSnapshots((current) => new Map(current).set(snapshot.id, snapshot));
  }, []);

  const seedHistory = useCallback(
    (id: string) => {
      api.invoke('tunnels:history', id).then(
        (samples) => {
          history.seed(id, samples);
          setSeeded((n) => n + 1);
        },
        // Without the host's history the chart fills from the pushes, as it always could.
        () => undefined,
      );
    },
    [api, history],
  );

  return {
    phase,
    loadError,
    info,
    profiles,
    snapshots,
    events,
    history,
    connection,
    now,
    generation,
    reload,
    applySnapshot,
    applyProfiles: setProfiles,
    seedHistory,
  };
}
