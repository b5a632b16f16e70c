import { createServer } from 'node:net';
import * as electron from 'electron';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { KafkaTunnelsApi, PushChannels } from '../shared/api.ts';
import type { ProfileInput } from '../shared/profile.ts';
import { FrameReader, connectClient, kafkaFrame, startTestBroker } from '../test/support/sockets.ts';
import { TunnelManager } from '../proxy/manager.ts';
import { ControlService } from '../proxy/control/service.ts';
import { MemoryBacking, type Encryptor } from './store/backing.ts';
import { ProfileStore } from './store/profile-store.ts';
import { connectWindowPushes, registerControlHandlers } from './ipc-main.ts';
import { isDashboardUrl } from './window.ts';
import type { FakeElectron } from './testing/fake-electron.ts';

vi.mock('electron', async () => (await import('./testing/fake-electron.ts')).createFakeElectron());

/** The IPC path end to end: page API -> preload -> ipcMain handlers -> ControlService -> real tunnels. */

const fake = electron as unknown as FakeElectron;
const SECRET = 'Bearer ipc-secret-value';

const encryptor: Encryptor = {
  isEncryptionAvailable: () => true,
  encryptString: (s) => Buffer.from(s, 'utf8').reverse(),
  decryptString: (b) => Buffer.from(b).reverse().toString('utf8'),
};

let api: KafkaTunnelsApi;
const logged: string[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  await import('./preload.ts');
  api = fake.state.mainWorld.kafkaTunnels as KafkaTunnelsApi;
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')));
  }
});

afterAll(() => {
  // Nothing the app printed during these tests carried a secret.
  expect(logged.join('\n')).not.toContain('ipc-secret-value');
  vi.restoreAllMocks();
});

afterEach(async () => {
  fake.state.senderUrl = 'app://dashboard/index.html';
  for (const c of cleanups.splice(0).reverse()) await c();
});

function host() {
  const manager = new TunnelManager();
  const store = new ProfileStore({ backing: new MemoryBacking(), encryptor, log: (_l, m) => console.warn(m) });
  const service = new ControlService({ repository: store, manager, host: 'electron', version: '1.0.0', secretStorage: store.secretStorage, statsIntervalMs: 20 });
  const internal: unknown[] = [];
  const unregister = registerControlHandlers({ service, isTrustedUrl: (url) => isDashboardUrl(url), onInternalError: (_c, err) => internal.push(err) });
  cleanups.push(async () => {
    unregister();
    service.dispose();
    await manager.stopAll();
  });
  return { manager, store, service, internal };
}

const profile = (overrides: Partial<ProfileInput> = {}): ProfileInput => ({
  id: 'prod',
  name: 'Prod',
  broker: '127.0.0.1:1',
  listenPort: 0,
  keepaliveMs: 0,
  ...overrides,
});

function nextPush<C extends keyof PushChannels>(channel: C, match: (p: PushChannels[C]) => boolean): Promise<PushChannels[C]> {
  return new Promise((resolve) => {
    const off = api.subscribe(channel, (payload) => {
      if (!match(payload)) return;
      off();
      resolve(payload);
    });
  });
}

describe('IPC between the dashboard and the main process', () => {
  it('the page gets one frozen API and nothing of Electron', () => {
    expect(Object.keys(fake.state.mainWorld)).toEqual(['kafkaTunnels']);
    expect(Object.keys(api).sort()).toEqual(['invoke', 'subscribe']);
    expect(Object.isFrozen(api)).toBe(true);
  });

  it('a profile that does not validate comes back as an Error with code INVALID_PROFILE', async () => {
    host();
    const err = await api.invoke('profiles:save', profile({ listenPort: 99999 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: 'ShimError', code: 'INVALID_PROFILE', message: expect.stringContaining('listenPort') });
    // Nothing was stored: only the first-run demo profile is there.
    expect((await api.invoke('profiles:list')).map((p) => p.id)).toEqual(['demo']);
  });

  it('starts and stops a real tunnel', async () => {
    host();
    await api.invoke('profiles:save', profile());
    const started = await api.invoke('tunnels:start', 'prod');
    expect(started.state).toBe('running');
    const client = await connectClient(started.listen!.port);
    client.destroy();
    const stopped = await api.invoke('tunnels:stop', 'prod');
    expect(stopped.state).toBe('stopped');
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(started.listen!.port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    expect(free).toBe(true);
  });

  it('a failure in the engine keeps its code across IPC', async () => {
    host();
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    cleanups.push(() => new Promise<void>((r) => blocker.close(() => r())));
    await api.invoke('profiles:save', profile({ listenPort: (blocker.address() as { port: number }).port }));
    await expect(api.invoke('tunnels:start', 'prod')).rejects.toMatchObject({ code: 'PORT_IN_USE', message: expect.stringContaining('already in use') });
    await expect(api.invoke('tunnels:start', 'nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('pushes stats to an open window about once a tick, and stops when the window is gone', async () => {
    const broker = await startTestBroker();
    cleanups.push(() => broker.close());
    const { service, manager } = host();
    const contents = new fake.FakeWebContents();
    connectWindowPushes(service, contents);
    await api.invoke('profiles:save', profile({ broker: broker.url }));
    const started = await api.invoke('tunnels:start', 'prod');
    const client = await connectClient(started.listen!.port);
    cleanups.push(() => void client.destroy());
    const seen = nextPush('push:stats', (s) => s.some((t) => t.id === 'prod' && t.connections.active === 1 && t.toClient.frames === 1));
    client.write(kafkaFrame('ping'));
    await new FrameReader(client).waitFor(1);
    const stats = await seen;
    expect(stats.map((s) => s.id)).toEqual(['demo', 'prod']);

    contents.destroy();
    const count = contents.sent.length;
    expect(manager.listenerCount('event')).toBe(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(contents.sent.length).toBe(count);
  });

  it('never hands a secret header value to the page, yet the broker receives it', async () => {
    const broker = await startTestBroker();
    cleanups.push(() => broker.close());
    const { service, store } = host();
    const contents = new fake.FakeWebContents();
    connectWindowPushes(service, contents);
    const received: unknown[] = [];
    const offs = (['push:stats', 'push:event', 'push:profiles'] as const).map((c) => api.subscribe(c, (p) => received.push(p)));
    cleanups.push(() => offs.forEach((off) => off()));

    const saved = await api.invoke('profiles:save', profile({ broker: broker.url, headers: [{ name: 'Authorization', value: SECRET, secret: true }] }));
    expect(saved.headers).toEqual([{ name: 'Authorization', secret: true, valueSet: true }]);
    // The page sends the profile back as it got it, renamed; the secret stays.
    await api.invoke('profiles:save', { ...saved, name: 'Production' });
    const started = await api.invoke('tunnels:start', 'prod');
    const client = await connectClient(started.listen!.port);
    cleanups.push(() => void client.destroy());
    client.write(kafkaFrame('x'));
    await new FrameReader(client).waitFor(1);
    expect(broker.requests[0].headers.authorization).toBe(SECRET);

    const answers = [saved, await api.invoke('profiles:list'), await api.invoke('profiles:export', { includeSecrets: false }), await api.invoke('tunnels:snapshots'), await api.invoke('tunnels:events', {})];
    expect(JSON.stringify([answers, received, contents.sent])).not.toContain('ipc-secret-value');
    expect((await store.get('prod'))?.headers[0].value).toBe(SECRET);
  });

  it('refuses a frame that is not the dashboard, with code UNAUTHORIZED', async () => {
    host();
    fake.state.senderUrl = 'https://evil.example/';
    await expect(api.invoke('profiles:list')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    fake.state.senderUrl = 'file:///etc/passwd';
    await expect(api.invoke('profiles:list')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('only the contract channels exist for the page', async () => {
    host();
    const untyped = api.invoke as (channel: string, ...args: unknown[]) => Promise<unknown>;
    await expect(untyped('shell:openExternal', 'file:///')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => api.subscribe('push:secrets' as never, () => undefined)).toThrow('Unknown subscription');
    const off = api.subscribe('push:stats', () => undefined);
    expect(fake.rendererListeners.get('push:stats')?.size).toBe(1);
    off();
    expect(fake.rendererListeners.get('push:stats')?.size).toBe(0);
  });

  it('reports unexpected failures as INTERNAL and hands them to the host for its log', async () => {
    const { internal, store } = host();
    vi.spyOn(store, 'list').mockRejectedValueOnce(new Error('disk on fire'));
    await expect(api.invoke('profiles:list')).rejects.toMatchObject({ code: 'INTERNAL', message: 'disk on fire' });
    expect(internal).toHaveLength(1);
  });
});
