import type { MenuItemConstructorOptions } from 'electron';
import type { Profile } from '../shared/profile.ts';
import type { TunnelSnapshot } from '../shared/stats.ts';
import { plural } from '../shared/format.ts';

/**
 * The tray menu as plain data, built from profiles and tunnel snapshots alone, so
 * every state (idle, running, failing, mixed) is tested without Electron. tray.ts
 * turns the model into an Electron Menu and the actions into clicks.
 */

export type TrayAction =
  | { kind: 'toggle'; id: string }
  | { kind: 'start-all' }
  | { kind: 'stop-all' }
  | { kind: 'open-dashboard' }
  | { kind: 'copy'; text: string }
  | { kind: 'launch-at-login'; enabled: boolean }
  | { kind: 'quit' };

export interface TrayMenuItem {
  type: 'normal' | 'checkbox' | 'separator' | 'submenu';
  label?: string;
  checked?: boolean;
  enabled?: boolean;
  action?: TrayAction;
  submenu?: TrayMenuItem[];
}

export type TrayIconState = 'idle' | 'active' | 'error';

export interface TrayModel {
  icon: TrayIconState;
  tooltip: string;
  items: TrayMenuItem[];
}

export interface TrayInput {
  profiles: readonly Pick<Profile, 'id' | 'name' | 'listenHost' | 'listenPort'>[];
  snapshots: readonly TunnelSnapshot[];
  /** Null where the OS offers no login item (Linux): the entry is left out. */
  launchAtLogin: boolean | null;
  productName: string;
}

/** Long error sentences are cut so the menu stays a menu. */
const ERROR_TEXT_MAX = 70;

export function buildTrayModel(input: TrayInput): TrayModel {
  const byId = new Map(input.snapshots.map((s) => [s.id, s]));
  const rows = input.profiles.map((p) => ({ profile: p, snap: byId.get(p.id) }));
  const running = rows.filter((r) => isOn(r.snap));
  const failing = rows.filter((r) => r.snap?.state === 'error');
  const connections = running.reduce((n, r) => n + (r.snap?.connections.active ?? 0), 0);

  const items: TrayMenuItem[] = [];
  if (rows.length === 0) items.push({ type: 'normal', label: 'No profiles yet', enabled: false });
  for (const { profile, snap } of rows) {
    items.push({
      type: 'checkbox',
      label: profileLabel(profile, snap),
      checked: isOn(snap),
      // A tunnel that is starting or stopping cannot be toggled until it settles.
      enabled: snap?.state !== 'starting' && snap?.state !== 'stopping',
      action: { kind: 'toggle', id: profile.id },
    });
    if (snap?.state === 'error' && snap.error) {
      items.push({ type: 'normal', label: `    ${truncate(snap.error.message, ERROR_TEXT_MAX)}`, enabled: false });
    }
  }
  items.push({ type: 'separator' });
  items.push({ type: 'normal', label: 'Start all', enabled: rows.some((r) => !isOn(r.snap)), action: { kind: 'start-all' } });
  items.push({ type: 'normal', label: 'Stop all', enabled: running.length > 0, action: { kind: 'stop-all' } });
  items.push({ type: 'separator' });
  items.push({ type: 'normal', label: 'Open dashboard', action: { kind: 'open-dashboard' } });
  items.push(copyItem(running.map((r) => ({ name: r.profile.name, address: r.snap?.bootstrap ?? null }))));
  items.push({ type: 'separator' });
  if (input.launchAtLogin !== null) {
    items.push({
      type: 'checkbox',
      label: 'Launch at login',
      checked: input.launchAtLogin,
      action: { kind: 'launch-at-login', enabled: !input.launchAtLogin },
    });
  }
  items.push({ type: 'normal', label: `Quit ${input.productName}`, action: { kind: 'quit' } });

  return {
    icon: failing.length > 0 ? 'error' : running.length > 0 ? 'active' : 'idle',
    tooltip: tooltip(input.productName, running.length, connections, failing.length),
    items,
  };
}

function isOn(snap: TunnelSnapshot | undefined): boolean {
  return snap?.state === 'running' || snap?.state === 'starting';
}

function profileLabel(profile: TrayInput['profiles'][number], snap: TunnelSnapshot | undefined): string {
  const address = snap?.bootstrap ?? localAddress(profile.listenHost, profile.listenPort);
  switch (snap?.state) {
    case 'running':
      return `${profile.name} — ${address} · ${plural(snap.connections.active, 'conn', 'conns')}`;
    case 'starting':
      return `${profile.name} — starting…`;
    case 'stopping':
      return `${profile.name} — stopping…`;
    case 'error':
      return `${profile.name} — failed`;
    default:
      return `${profile.name} — ${address}`;
  }
}

/** What a client would type: the loopback address reads as localhost. */
function localAddress(host: string, port: number): string {
  const shown = host === '127.0.0.1' || host === '::1' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return port === 0 ? `${shown} (any free port)` : `${shown}:${port}`;
}

function copyItem(running: { name: string; address: string | null }[]): TrayMenuItem {
  const withAddress = running.filter((r): r is { name: string; address: string } => r.address !== null);
  if (withAddress.length === 0) return { type: 'normal', label: 'Copy bootstrap address', enabled: false };
  if (withAddress.length === 1) {
    const only = withAddress[0];
    return { type: 'normal', label: `Copy bootstrap address (${only.address})`, action: { kind: 'copy', text: only.address } };
  }
  return {
    type: 'submenu',
    label: 'Copy bootstrap address',
    submenu: withAddress.map((r) => ({ type: 'normal', label: `${r.name} — ${r.address}`, action: { kind: 'copy', text: r.address } })),
  };
}

function tooltip(product: string, running: number, connections: number, failing: number): string {
  const parts = running === 0 ? ['no tunnels running'] : [`${plural(running, 'tunnel', 'tunnels')} running`, plural(connections, 'connection', 'connections')];
  if (failing > 0) parts.push(`${failing} failed`);
  return `${product} — ${parts.join(', ')}`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Electron's menu template for a model; each click hands its action to `onAction`. */
export function toMenuTemplate(items: readonly TrayMenuItem[], onAction: (action: TrayAction) => void): MenuItemConstructorOptions[] {
  return items.map((item): MenuItemConstructorOptions => {
    if (item.type === 'separator') return { type: 'separator' };
    const action = item.action;
    return {
      type: item.type,
      label: item.label,
      checked: item.checked,
      enabled: item.enabled ?? true,
      submenu: item.submenu ? toMenuTemplate(item.submenu, onAction) : undefined,
      click: action ? () => onAction(action) : undefined,
    };
  });
}
