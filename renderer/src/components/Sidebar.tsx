import { useRef, type KeyboardEvent, type ReactNode } from 'react';
import type { Profile } from '../../../shared/profile.ts';
import type { TunnelSnapshot } from '../../../shared/stats.ts';
import { STATE_LABELS } from './StatCards.tsx';

/** Profiles with a status dot and an on/off switch; arrow keys move through the list. */

export interface SidebarProps {
  profiles: readonly Profile[];
  snapshots: ReadonlyMap<string, TunnelSnapshot>;
  selectedId: string | null;
  /** Ids with a start or stop in flight: their switch waits. */
  busy: ReadonlySet<string>;
  onSelect: (id: string) => void;
  onToggle: (id: string, on: boolean) => void;
  onNew: () => void;
  footer?: ReactNode;
}

export function Sidebar({ profiles, snapshots, selectedId, busy, onSelect, onToggle, onNew, footer }: SidebarProps) {
  const items = useRef<(HTMLButtonElement | null)[]>([]);

  const onKey = (event: KeyboardEvent, index: number) => {
    const step = event.key === 'ArrowDown' ? 1 : event.key === 'ArrowUp' ? -1 : 0;
    if (step === 0) return;
    event.preventDefault();
    const next = Math.min(Math.max(index + step, 0), profiles.length - 1);
    items.current[next]?.focus();
    onSelect(profiles[next].id);
  };

  return (
    <nav className="sidebar" aria-label="Tunnels">
      <div className="sidebar-head">
        <span className="app-title">Kafka Tunnels</span>
        <button type="button" className="btn btn-small" onClick={onNew}>
          New profile
        </button>
      </div>
      {profiles.length === 0 ? (
        <p className="sidebar-empty">No profiles yet.</p>
      ) : (
        <ul className="profile-list">
          {profiles.map((p, i) => {
            const snap = snapshots.get(p.id);
            const state = snap?.state ?? 'stopped';
            const on = state === 'running' || state === 'starting';
            const pending = busy.has(p.id) || state === 'starting' || state === 'stopping';
            return (
              <li key={p.id} className={`profile-item${p.id === selectedId ? ' selected' : ''}`} data-profile-id={p.id}>
                <button
                  type="button"
                  className="profile-select"
                  ref={(el) => {
                    items.current[i] = el;
                  }}
                  aria-current={p.id === selectedId ? 'page' : undefined}
                  onClick={() => onSelect(p.id)}
                  onKeyDown={(e) => onKey(e, i)}
                >
                  <span className={`dot dot-${state}`} role="img" aria-label={STATE_LABELS[state]} />
                  <span className="profile-text">
                    <span className="profile-name">{p.name}</span>
                    <span className="profile-sub num">{snap?.bootstrap ?? (p.listenPort === 0 ? 'any free port' : `port ${p.listenPort}`)}</span>
                  </span>
                </button>
                <button
                  type="button"
                  role="switch"
                  aria-checked={on}
                  aria-label={`Tunnel ${p.name}`}
                  className="switch"
                  disabled={pending}
                  onClick={() => onToggle(p.id, !on)}
                >
                  <span className="switch-knob" aria-hidden="true" />
                </button>
              </li>
            );
          })}
        </ul>
      )}
      <div className="sidebar-foot">{footer}</div>
    </nav>
  );
}
