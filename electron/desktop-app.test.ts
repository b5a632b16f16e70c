import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import * as electron from 'electron';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { profileSchema, type ProfileInput } from '../shared/profile.ts';
import { connectClient, startTestBroker } from '../test/support/sockets.ts';
import { MemoryBacking } from './store/backing.ts';
import { ProfileStore } from './store/profile-store.ts';
import type { FakeElectron } from './testing/fake-electron.ts';

vi.mock('electron', async () => (await import('./testing/fake-electron.ts')).createFakeElectron());
// electron-store needs a real Electron; the store's own logic is tested in store/.
const backing = vi.hoisted(() => ({ current: null as unknown }));
vi.mock('./store/electron-backing.ts', () => ({
  electronStoreBacking: () => backing.current,
  safeStorageEncryptor: () => ({
    isEncryptionAvailable: () => true,
    encryptString: (s: string) => Buffer.from(s).reverse(),
    decryptString: (b: Buffer) => Buffer.from(b).reverse().toString(),
  }),
}));

const { DesktopApp } = await import('./desktop-app.ts');
const fake = electron as unknown as FakeElectron;

let desktop: InstanceType<typeof DesktopApp>;
const servers: Server[] = [];

function seed(profiles: ProfileInput[]): void {
  const memory = new MemoryBacking();
  backing.current = memory;
  const store = new ProfileStore({ backing: memory, encryptor: { isEncryptionAvailable: () => false, encryptString: () => Buffer.alloc(0), decryptString: () => '' } });
  for (const p of profiles) void store.save(profileSchema.parse(p));
}

async function occupiedPort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  servers.push(s);
  return (s.address() as { port: number }).port;
}

function makeApp() {
  desktop = new DesktopApp({ appPath: '/app', bundleDir: '/app/dist-electron', log: () => undefined });
  return desktop;
}

const trayDrawn = () => new Promise((r) => setTimeout(r, 400));
/** The tray item for a profile (the first-run demo profile comes first). */
const trayItem = (prefix: string) => fake.shown.tray!.menu.find((i) => i.label?.startsWith(prefix))!;

beforeEach(() => {
  fake.shown.windows.length = 0;
  fake.shown.notifications.length = 0;
  fake.shown.clipboard.length = 0;
});

afterEach(async () => {
  await desktop?.shutdown();
  for (const s of servers.splice(0)) s.close();
});

describe('DesktopApp', () => {
  it('starts auto-start profiles at launch; one failing is announced and the others still run', async () => {
    const taken = await occupiedPort();
    seed([
      { id: 'a', name: 'Alpha', broker: 'h:1', listenPort: 0, autoStart: true },
      { id: 'busy', name: 'Busy', broker: 'h:1', listenPort: taken, autoStart: true },
      { id: 'manual', name: 'Manual', broker: 'h:1', listenPort: 0 },
    ]);
    await makeApp().start();
    expect(fake.shown.notifications).toEqual([
      expect.objectContaining({ title: 'Busy could not start', body: expect.stringContaining(`Port ${taken}`) }),
    ]);
    await trayDrawn();
    const tray = fake.shown.tray!;
    expect(tray.tooltip).toBe('Kafka WebSocket Shim — 1 tunnel running, 0 connections, 1 failed');
    expect(tray.menu.map((i) => i.label)).toEqual(expect.arrayContaining([expect.stringMatching(/^Alpha — localhost:\d+ · 0 conns$/), 'Busy — failed', 'Manual — localhost (any free port)']));
    expect(tray.image).toEqual({ path: '/app/electron/assets/tray-error.png' });
  });

  it('opens one sandboxed dashboard window, and focuses it on the next request', async () => {
    seed([]);
    await makeApp().start();
    desktop.showDashboard();
    desktop.showDashboard();
    expect(fake.shown.windows).toHaveLength(1);
    const win = fake.shown.windows[0];
    expect(win.options.webPreferences).toMatchObject({ preload: '/app/dist-electron/preload.cjs', contextIsolation: true, sandbox: true, nodeIntegration: false });
    expect(win.loaded).toEqual(['app://dashboard/index.html']);
    expect(win.visible && win.focused).toBe(true);
  });

  it('closing the window keeps tunnels running and says so once', async () => {
    seed([{ id: 'a', name: 'Alpha', broker: 'h:1', listenPort: 0, autoStart: true }]);
    await makeApp().start();
    desktop.showDashboard();
    fake.shown.windows[0].close();
    desktop.showDashboard();
    fake.shown.windows[1].close();
    expect(fake.shown.notifications.map((n) => n.title)).toEqual(['Kafka WebSocket Shim is still running']);
    expect(fake.shown.tray!.destroyed).toBe(false);
    await trayDrawn();
    expect(fake.shown.tray!.tooltip).toContain('1 tunnel running');
  });

  it('quitting with the window open does not claim the app is still running', async () => {
    seed([]);
    await makeApp().start();
    desktop.showDashboard();
    await desktop.shutdown();
    fake.shown.windows[0].close();
    expect(fake.shown.notifications).toEqual([]);
    expect(fake.shown.tray!.destroyed).toBe(true);
  });

  it('stops pushing to a closed window', async () => {
    seed([]);
    await makeApp().start();
    desktop.showDashboard();
    const contents = fake.shown.windows[0].webContents;
    await vi.waitFor(() => expect(contents.sent.some((m) => m.channel === 'push:stats')).toBe(true), { timeout: 3000 });
    fake.shown.windows[0].close();
    const count = contents.sent.length;
    await new Promise((r) => setTimeout(r, 1200));
    expect(contents.sent.length).toBe(count);
  });

  it('the tray starts and stops a tunnel, copies its address, and quitting frees the port', async () => {
    const broker = await startTestBroker();
    seed([{ id: 'a', name: 'Alpha', broker: broker.url, listenPort: 0, keepaliveMs: 0 }]);
    await makeApp().start();
    await trayDrawn();
    const tray = fake.shown.tray!;
    tray.click('Alpha');
    await vi.waitFor(() => expect(trayItem('Alpha').label).toMatch(/^Alpha — localhost:\d+ ·/), { timeout: 3000 });
    const port = Number(/localhost:(\d+)/.exec(trayItem('Alpha').label!)![1]);
    const client = await connectClient(port);
    await vi.waitFor(() => expect(tray.tooltip).toContain('1 connection'), { timeout: 3000 });
    tray.click('Copy bootstrap address');
    expect(fake.shown.clipboard).toEqual([`localhost:${port}`]);

    const closed = once(client, 'close');
    await desktop.shutdown();
    await closed;
    await broker.close();
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    expect(free).toBe(true);
  });

  it('does not notify while the dashboard has focus', async () => {
    const taken = await occupiedPort();
    seed([{ id: 'busy', name: 'Busy', broker: 'h:1', listenPort: taken }]);
    await makeApp().start();
    desktop.showDashboard();
    expect(fake.shown.windows[0].isFocused()).toBe(true);
    await trayDrawn();
    fake.shown.tray!.click('Busy');
    await vi.waitFor(() => expect(trayItem('Busy').label).toBe('Busy — failed'), { timeout: 3000 });
    expect(fake.shown.notifications).toEqual([]);
  });
});
