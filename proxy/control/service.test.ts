import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { PushChannel, PushChannels } from '../../shared/api.ts';
import type { ProfileInput } from '../../shared/profile.ts';
import { FrameReader, connectClient, kafkaFrame, startTestBroker, testProfile, type TestBroker } from '../../test/support/sockets.ts';
import { TunnelManager } from '../manager.ts';
import { MemoryProfileRepository } from './memory-repository.ts';
import { ControlService, type ControlServiceOptions } from './service.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(overrides: Partial<ControlServiceOptions> = {}) {
  const manager = new TunnelManager();
  const repository = new MemoryProfileRepository();
  const service = new ControlService({ repository, manager, host: 'dashboard', version: '9.9.9', secretStorage: false, statsIntervalMs: 20, ...overrides });
  cleanups.push(async () => {
    service.dispose();
    await manager.stopAll();
  });
  return { manager, repository, service };
}

async function broker(): Promise<TestBroker> {
  const b = await startTestBroker();
  cleanups.push(() => b.close());
  return b;
}

function input(overrides: Partial<ProfileInput> = {}): ProfileInput {
  return { id: 'prod', name: 'Prod', broker: '127.0.0.1:1', listenPort: 0, keepaliveMs: 0, ...overrides };
}

/** Records pushes; `next` resolves with the first push on a channel matching a predicate. */
function recordPushes(service: ControlService, options?: { stats?: boolean }) {
  const seen: { channel: PushChannel; payload: unknown }[] = [];
  const waiters: { channel: PushChannel; match: (p: never) => boolean; resolve: (p: unknown) => void }[] = [];
  const dispose = service.onPush((channel, payload) => {
    seen.push({ channel, payload });
    for (const w of [...waiters]) {
      if (w.channel === channel && w.match(payload as never)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(payload);
      }
    }
  }, options);
  cleanups.push(dispose);
  function next<C extends PushChannel>(channel: C, match: (p: PushChannels[C]) => boolean = () => true): Promise<PushChannels[C]> {
    return new Promise((resolve) => waiters.push({ channel, match: match as (p: never) => boolean, resolve: resolve as (p: unknown) => void }));
  }
  return { seen, next, dispose };
}

describe('ControlService', () => {
  it('rejects an invalid profile with INVALID_PROFILE naming the field, and stores nothing', async () => {
    const { service } = setup();
    await expect(service.invoke('profiles:save', [input({ listenPort: 70000 })])).rejects.toMatchObject({
      code: 'INVALID_PROFILE',
      message: expect.stringContaining('listenPort'),
    });
    await expect(service.invoke('profiles:save', [{ ...input(), extra: 1 }])).rejects.toMatchObject({ code: 'INVALID_PROFILE' });
    await expect(service.invoke('profiles:save', [input({ broker: 'not a broker' })])).rejects.toMatchObject({ code: 'INVALID_PROFILE' });
    expect(await service.invoke('profiles:list', [])).toEqual([]);
  });

  it('rejects malformed arguments and unknown channels with INVALID_ARGUMENT', async () => {
    const { service } = setup();
    await expect(service.invoke('tunnels:start', [])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(service.invoke('tunnels:start', ['../etc'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(service.invoke('tunnels:start', ['a', 'b'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(service.invoke('tunnels:events', [{ limit: -1 }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(service.invoke('profiles:export', [{ includeSecrets: 'yes' }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(service.invoke('tunnels:history', [])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(service.invoke('tunnels:history', [{ id: 'prod' }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(service.invoke('shell:exec' as never, [])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('never returns or pushes a secret value, and keeps it when the dashboard sends the header back without one', async () => {
    const b = await broker();
    const { service, repository } = setup();
    const pushes = recordPushes(service);
    const secret = 'Bearer s3cret-token';
    const saved = await service.invoke('profiles:save', [
      input({ broker: b.url, headers: [{ name: 'Authorization', value: secret, secret: true }, { name: 'X-Team', value: 'blue' }] }),
    ]);
    expect(saved.headers).toEqual([
      { name: 'Authorization', secret: true, valueSet: true },
      { name: 'X-Team', value: 'blue', secret: false },
    ]);
    // The dashboard edits the name and sends the redacted header back as it got it.
    await service.invoke('profiles:save', [{ ...saved, name: 'Production' }]);
    expect((await repository.get('prod'))?.headers[0].value).toBe(secret);
    // The engine gets the secret: the broker sees it in the handshake.
    await service.invoke('tunnels:start', ['prod']);
    const snap = (await service.invoke('tunnels:snapshots', []))[0];
    const client = await connectClient(snap.listen!.port);
    cleanups.push(() => void client.destroy());
    client.write(kafkaFrame('hi'));
    await new FrameReader(client).waitFor(1);
    expect(b.requests[0].headers.authorization).toBe(secret);

    const exported = await service.invoke('profiles:export', [{ includeSecrets: false }]);
    const everything = JSON.stringify([pushes.seen, await service.invoke('profiles:list', []), exported]);
    expect(everything).not.toContain('s3cret');
    expect(JSON.parse(exported).profiles[0].headers[0]).toEqual({ name: 'Authorization', secret: true });
    expect(await service.invoke('profiles:export', [{ includeSecrets: true }])).toContain(secret);
  });

  it('starts and stops a real tunnel, and reports a stopped snapshot for a profile never started', async () => {
    const { service } = setup();
    await service.invoke('profiles:save', [input()]);
    await service.invoke('profiles:save', [input({ id: 'other', name: 'Other' })]);
    const running = await service.invoke('tunnels:start', ['prod']);
    expect(running.state).toBe('running');
    const port = running.listen!.port;
    const socket = await connectClient(port);
    socket.destroy();
    const snapshots = await service.invoke('tunnels:snapshots', []);
    expect(snapshots.map((s) => [s.id, s.state])).toEqual([
      ['prod', 'running'],
      ['other', 'stopped'],
    ]);
    const stopped = await service.invoke('tunnels:stop', ['prod']);
    expect(stopped.state).toBe('stopped');
    await expect(portIsFree(port)).resolves.toBe(true);
    const events = await service.invoke('tunnels:events', [{ tunnelId: 'prod' }]);
    expect(events.map((e) => e.kind)).toEqual(expect.arrayContaining(['tunnel-started', 'tunnel-stopped']));
  });

  it('answers NOT_FOUND for an unknown profile and PORT_CONFLICT when another running tunnel holds the port', async () => {
    const { service } = setup();
    await expect(service.invoke('tunnels:start', ['missing'])).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(service.invoke('profiles:delete', ['missing'])).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const first = await service.invoke('profiles:save', [input()]);
    const started = await service.invoke('tunnels:start', [first.id]);
    await service.invoke('profiles:save', [input({ id: 'twin', name: 'Twin', listenPort: started.listen!.port })]);
    await service.invoke('profiles:save', [input({ id: 'prod', listenPort: started.listen!.port })]);
    await expect(service.invoke('tunnels:start', ['twin'])).rejects.toMatchObject({
      code: 'PORT_CONFLICT',
      message: expect.stringContaining('"Prod"'),
    });
  });

  it('surfaces the engine error code when the port is taken by another program', async () => {
    const { service } = setup();
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    cleanups.push(() => new Promise<void>((r) => blocker.close(() => r())));
    const port = (blocker.address() as { port: number }).port;
    await service.invoke('profiles:save', [input({ listenPort: port })]);
    await expect(service.invoke('tunnels:start', ['prod'])).rejects.toMatchObject({ code: 'PORT_IN_USE' });
    const [snap] = await service.invoke('tunnels:snapshots', []);
    expect(snap.state).toBe('error');
    expect(snap.error?.code).toBe('PORT_IN_USE');
  });

  it('pushes stats while listened to, with live connection counts, and stops the timer when the last listener leaves', async () => {
    const b = await broker();
    const { service, manager } = setup();
    await service.invoke('profiles:save', [input({ broker: b.url })]);
    const pushes = recordPushes(service);
    const started = await service.invoke('tunnels:start', ['prod']);
    const client = await connectClient(started.listen!.port);
    cleanups.push(() => void client.destroy());
    client.write(kafkaFrame('hello'));
    await new FrameReader(client).waitFor(1);
    const stats = await pushes.next('push:stats', (s) => s[0]?.connections.active === 1 && s[0].toBroker.bytes > 0);
    expect(stats[0]).toMatchObject({ id: 'prod', state: 'running', toBroker: { frames: 1 } });
    expect(pushes.seen.some((p) => p.channel === 'push:event' && (p.payload as { kind: string }).kind === 'tunnel-started')).toBe(true);

    pushes.dispose();
    expect(manager.listenerCount('event')).toBe(0);
    // What stays is the throughput history's own listener, which samples with no window open.
    expect(manager.listenerCount('state')).toBe(1);
    const count = pushes.seen.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(pushes.seen.length).toBe(count);
  });

  it('sends profile changes but no stats to a listener that asked for no stats', async () => {
    const { service } = setup();
    const pushes = recordPushes(service, { stats: false });
    const changed = pushes.next('push:profiles');
    await service.invoke('profiles:save', [input()]);
    expect((await changed).map((p) => p.id)).toEqual(['prod']);
    await service.invoke('tunnels:start', ['prod']);
    await new Promise((r) => setTimeout(r, 100));
    expect(pushes.seen.some((p) => p.channel === 'push:stats')).toBe(false);
  });

  it('restarts a running tunnel when its profile is saved with a change', async () => {
    const b = await broker();
    const { service } = setup();
    await service.invoke('profiles:save', [input()]);
    const before = await service.invoke('tunnels:start', ['prod']);
    await service.invoke('profiles:save', [input({ broker: b.url })]);
    const [after] = await service.invoke('tunnels:snapshots', []);
    expect(after.state).toBe('running');
    expect(after.brokerUrl).toContain(`127.0.0.1:${b.port}`);
    expect(after.startedAt).not.toBeNull();
    expect(before.brokerUrl).not.toBe(after.brokerUrl);
  });

  it('deletes a profile and stops its tunnel first', async () => {
    const { service } = setup();
    await service.invoke('profiles:save', [input()]);
    const started = await service.invoke('tunnels:start', ['prod']);
    await service.invoke('profiles:delete', ['prod']);
    expect(await service.invoke('profiles:list', [])).toEqual([]);
    await expect(portIsFree(started.listen!.port)).resolves.toBe(true);
  });

  it('imports an export without overwriting: clashing ids are renamed', async () => {
    const { service } = setup();
    await service.invoke('profiles:save', [input()]);
    const exported = await service.invoke('profiles:export', [{ includeSecrets: false }]);
    const result = await service.invoke('profiles:import', [exported]);
    expect(result).toEqual({ imported: 1, renamed: [{ from: 'prod', to: 'prod-2' }] });
    expect((await service.invoke('profiles:list', [])).map((p) => p.id)).toEqual(['prod', 'prod-2']);
    await expect(service.invoke('profiles:import', ['{not json'])).rejects.toMatchObject({ code: 'IMPORT_FAILED' });
    await expect(service.invoke('profiles:import', ['{"profiles":[{"id":"x"}]}'])).rejects.toMatchObject({
      code: 'IMPORT_FAILED',
      message: expect.stringContaining('profiles.0'),
    });
  });

  it('tests a connection with stored secrets filled in, or says the test is not available', async () => {
    const { service: bare } = setup();
    await expect(bare.invoke('tunnels:test', [input()])).rejects.toMatchObject({ code: 'NOT_AVAILABLE' });

    const seen: string[] = [];
    const { service } = setup({
      testConnection: async (profile) => {
        seen.push(profile.headers[0].value ?? '(none)');
        return { ok: true, url: 'ws://x/', handshakeMs: 1, failure: null, apiVersions: null, brokers: [], topics: [] };
      },
    });
    await service.invoke('profiles:save', [input({ headers: [{ name: 'Authorization', value: 'kept', secret: true }] })]);
    await service.invoke('tunnels:test', [input({ headers: [{ name: 'Authorization', secret: true }] })]);
    expect(seen).toEqual(['kept']);
    await expect(service.invoke('tunnels:test', [input({ listenPort: -1 })])).rejects.toMatchObject({ code: 'INVALID_PROFILE' });
  });

  it('keeps the last 300 rate samples per tunnel with no one listening, and answers [] for an id without any', async () => {
    const { service, manager } = setup({ historyIntervalMs: 1 });
    expect(await service.invoke('tunnels:history', ['prod'])).toEqual([]);
    await service.invoke('profiles:save', [input()]);
    await service.invoke('tunnels:start', ['prod']);
    // The ring fills up, then rolls: its oldest sample moves on and the count stays.
    await expect.poll(async () => (await service.invoke('tunnels:history', ['prod'])).length, { timeout: 20_000, interval: 20 }).toBe(300);
    const full = await service.invoke('tunnels:history', ['prod']);
    await expect.poll(async () => (await service.invoke('tunnels:history', ['prod']))[0].time, { timeout: 20_000, interval: 20 }).toBeGreaterThan(full[0].time);
    const rolled = await service.invoke('tunnels:history', ['prod']);
    expect(rolled).toHaveLength(300);
    expect(rolled[0]).toEqual({ time: expect.any(Number), toBrokerBytesPerSec: 0, toClientBytesPerSec: 0, toBrokerFramesPerSec: 0, toClientFramesPerSec: 0 });
    const times = rolled.map((s) => s.time);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(await service.invoke('tunnels:history', ['other'])).toEqual([]);

    // A stopped tunnel keeps its history; deleting the profile drops it.
    await service.invoke('tunnels:stop', ['prod']);
    expect((await service.invoke('tunnels:history', ['prod'])).length).toBe(300);
    await service.invoke('profiles:delete', ['prod']);
    expect(await service.invoke('tunnels:history', ['prod'])).toEqual([]);
    service.dispose();
    expect(manager.listenerCount('state')).toBe(0);
  });

  it('reports app info and writes the clipboard through the host', async () => {
    const copied: string[] = [];
    const { service } = setup({ clipboard: (t) => void copied.push(t) });
    expect(await service.invoke('app:info', [])).toEqual({ version: '9.9.9', host: 'dashboard', platform: process.platform, secretStorage: false });
    await service.invoke('clipboard:write', ['localhost:9092']);
    expect(copied).toEqual(['localhost:9092']);
  });
});

async function portIsFree(port: number): Promise<boolean> {
  const server: Server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
