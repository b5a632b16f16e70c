import { describe, expect, it } from 'vitest';
import { stoppedSnapshot, type TunnelSnapshot } from '../shared/stats.ts';
import { buildTrayModel, toMenuTemplate, type TrayAction, type TrayInput, type TrayMenuItem } from './tray-menu.ts';

const profiles: TrayInput['profiles'] = [
  { id: 'prod', name: 'Prod', listenHost: '127.0.0.1', listenPort: 9092 },
  { id: 'staging', name: 'Staging', listenHost: '0.0.0.0', listenPort: 9093 },
];

function running(id: string, port: number, active: number): TunnelSnapshot {
  return {
    ...stoppedSnapshot(id),
    state: 'running',
    listen: { host: '127.0.0.1', port },
    bootstrap: `localhost:${port}`,
    startedAt: 1,
    connections: { active, total: active, failed: 0 },
  };
}

function failed(id: string, message: string): TunnelSnapshot {
  return { ...stoppedSnapshot(id), state: 'error', error: { code: 'PORT_IN_USE', message } };
}

const model = (snapshots: TunnelSnapshot[], launchAtLogin: boolean | null = false) =>
  buildTrayModel({ profiles, snapshots, launchAtLogin, productName: 'Kafka Tunnels' });

const labels = (items: TrayMenuItem[]) => items.map((i) => (i.type === 'separator' ? '---' : i.label));
const find = (items: TrayMenuItem[], prefix: string) => items.find((i) => i.label?.startsWith(prefix));

describe('buildTrayModel', () => {
  it('idle: every profile unchecked with its listen address, nothing to stop or copy', () => {
    const m = model([]);
    expect(m.icon).toBe('idle');
    expect(m.tooltip).toBe('Kafka Tunnels — no tunnels running');
    expect(labels(m.items)).toEqual([
      'Prod — localhost:9092',
      'Staging — 0.0.0.0:9093',
      '---',
      'Start all',
      'Stop all',
      '---',
      'Open dashboard',
      'Copy bootstrap address',
      '---',
      'Launch at login',
      'Quit Kafka Tunnels',
    ]);
    expect(m.items[0]).toMatchObject({ type: 'checkbox', checked: false, enabled: true, action: { kind: 'toggle', id: 'prod' } });
    expect(find(m.items, 'Start all')).toMatchObject({ enabled: true, action: { kind: 'start-all' } });
    expect(find(m.items, 'Stop all')?.enabled).toBe(false);
    expect(find(m.items, 'Copy bootstrap')).toMatchObject({ enabled: false });
    expect(find(m.items, 'Copy bootstrap')?.action).toBeUndefined();
  });

  it('running: checked items with connection counts, summary tooltip, a copy action for the one address', () => {
    const m = model([running('prod', 9092, 3), running('staging', 9093, 1)]);
    expect(m.icon).toBe('active');
    expect(m.tooltip).toBe('Kafka Tunnels — 2 tunnels running, 4 connections');
    expect(m.items[0]).toMatchObject({ label: 'Prod — localhost:9092 · 3 conns', checked: true, action: { kind: 'toggle', id: 'prod' } });
    expect(m.items[1].label).toBe('Staging — localhost:9093 · 1 conn');
    expect(find(m.items, 'Start all')?.enabled).toBe(false);
    expect(find(m.items, 'Stop all')).toMatchObject({ enabled: true, action: { kind: 'stop-all' } });
    const copy = find(m.items, 'Copy bootstrap');
    expect(copy?.type).toBe('submenu');
    expect(copy?.submenu?.map((i) => i.action)).toEqual([
      { kind: 'copy', text: 'localhost:9092' },
      { kind: 'copy', text: 'localhost:9093' },
    ]);
  });

  it('error: the failing tunnel is unchecked, shows the error text under it, and turns the icon red', () => {
    const long = `Port 9092 on 127.0.0.1 is already in use by another program; choose another port or stop that program`;
    const m = model([failed('prod', long)]);
    expect(m.icon).toBe('error');
    expect(m.tooltip).toBe('Kafka Tunnels — no tunnels running, 1 failed');
    expect(m.items[0]).toMatchObject({ label: 'Prod — failed', checked: false, action: { kind: 'toggle', id: 'prod' } });
    expect(m.items[1]).toMatchObject({ type: 'normal', enabled: false });
    expect(m.items[1].label?.trim().startsWith('Port 9092 on 127.0.0.1 is already in use')).toBe(true);
    expect(m.items[1].label!.trim().length).toBeLessThanOrEqual(70);
    expect(m.items[1].label!.endsWith('…')).toBe(true);
    expect(m.items[1].action).toBeUndefined();
    expect(m.items[2].label).toBe('Staging — 0.0.0.0:9093');
  });

  it('mixed: one running, one failing, one starting', () => {
    const three = [...profiles, { id: 'dev', name: 'Dev', listenHost: '127.0.0.1', listenPort: 0 }];
    const m = buildTrayModel({
      profiles: three,
      snapshots: [running('prod', 9092, 1), failed('staging', 'Broker refused'), { ...stoppedSnapshot('dev'), state: 'starting' }],
      launchAtLogin: true,
      productName: 'Kafka Tunnels',
    });
    expect(m.icon).toBe('error');
    expect(m.tooltip).toBe('Kafka Tunnels — 2 tunnels running, 1 connection, 1 failed');
    expect(labels(m.items).slice(0, 4)).toEqual(['Prod — localhost:9092 · 1 conn', 'Staging — failed', '    Broker refused', 'Dev — starting…']);
    expect(m.items[3]).toMatchObject({ checked: true, enabled: false });
    expect(find(m.items, 'Start all')?.enabled).toBe(true);
    expect(find(m.items, 'Copy bootstrap')).toMatchObject({ label: 'Copy bootstrap address (localhost:9092)', action: { kind: 'copy', text: 'localhost:9092' } });
    expect(find(m.items, 'Launch at login')).toMatchObject({ checked: true, action: { kind: 'launch-at-login', enabled: false } });
  });

  it('leaves out Launch at login where the OS has none, and says when there are no profiles', () => {
    const m = buildTrayModel({ profiles: [], snapshots: [], launchAtLogin: null, productName: 'P' });
    expect(labels(m.items)).not.toContain('Launch at login');
    expect(m.items[0]).toEqual({ type: 'normal', label: 'No profiles yet', enabled: false });
    expect(find(m.items, 'Start all')?.enabled).toBe(false);
    expect(m.items.at(-1)).toEqual({ type: 'normal', label: 'Quit P', action: { kind: 'quit' } });
  });

  it('describes a profile on a free port without inventing a number', () => {
    const m = buildTrayModel({ profiles: [{ id: 'x', name: 'X', listenHost: '::1', listenPort: 0 }], snapshots: [], launchAtLogin: null, productName: 'P' });
    expect(m.items[0].label).toBe('X — localhost (any free port)');
  });
});

describe('toMenuTemplate', () => {
  it('turns the model into Electron template items whose clicks carry the action', () => {
    const m = model([running('prod', 9092, 1), running('staging', 9093, 0)]);
    const clicked: TrayAction[] = [];
    const template = toMenuTemplate(m.items, (a) => clicked.push(a));
    expect(template[0]).toMatchObject({ type: 'checkbox', label: 'Prod — localhost:9092 · 1 conn', checked: true, enabled: true });
    expect(template[2]).toEqual({ type: 'separator' });
    (template[0].click as () => void)();
    const copy = template.find((t) => t.label === 'Copy bootstrap address')!;
    const sub = copy.submenu as { click: () => void }[];
    sub[1].click();
    (template.at(-1)!.click as () => void)();
    expect(clicked).toEqual([{ kind: 'toggle', id: 'prod' }, { kind: 'copy', text: 'localhost:9093' }, { kind: 'quit' }]);
    expect(template.find((t) => t.label === 'Stop all')).toMatchObject({ enabled: true });
  });
});
