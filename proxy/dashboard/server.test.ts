import { once } from 'node:events';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { TunnelSnapshot } from '../../shared/stats.ts';
import { BrowserBridge } from '../../renderer/src/bridge/browser-bridge.ts';
import { MemoryProfileRepository } from '../control/memory-repository.ts';
import { ControlService } from '../control/service.ts';
import { TunnelManager } from '../manager.ts';
import { startDashboard, type Dashboard } from './server.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function staticDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dashboard-static-'));
  await mkdir(join(dir, 'assets'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>Kafka Tunnels</title>');
  await writeFile(join(dir, 'assets', 'app.js'), 'console.log(1)');
  // A sibling whose path starts with the directory's own: a naive prefix check lets it out.
  await writeFile(`${dir}-secret.txt`, 'outside');
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  cleanups.push(() => rm(`${dir}-secret.txt`, { force: true }));
  return dir;
}

async function setup(options: { host?: string } = {}): Promise<{ dashboard: Dashboard; service: ControlService; manager: TunnelManager; dir: string }> {
  const manager = new TunnelManager();
  const service = new ControlService({
    repository: new MemoryProfileRepository(),
    manager,
    host: 'dashboard',
    version: '7.7.7',
    secretStorage: false,
    statsIntervalMs: 50,
  });
  const dir = await staticDir();
  const dashboard = await startDashboard({ host: options.host ?? '127.0.0.1', port: 0, service, staticDir: dir });
  cleanups.push(async () => {
    await dashboard.close();
    service.dispose();
    await manager.stopAll();
  });
  return { dashboard, service, manager, dir };
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens the RPC socket as a browser would; resolves with the HTTP status of a refusal. */
function upgrade(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', reject);
  });
}

/** The renderer's own bridge, on ws's WebSocket, sending the Origin a page would. */
function bridgeFor(dashboard: Dashboard, token = dashboard.token): BrowserBridge {
  const origin = `http://127.0.0.1:${dashboard.port}`;
  class PageWebSocket extends WebSocket {
    constructor(url: string) {
      super(url, { origin });
    }
  }
  const bridge = new BrowserBridge({ url: `ws://127.0.0.1:${dashboard.port}/rpc?token=${token}`, WebSocket: PageWebSocket as unknown as typeof globalThis.WebSocket });
  cleanups.push(() => bridge.close());
  return bridge;
}

describe('dashboard server', () => {
  it('prints a loopback URL with a random token, different each start', async () => {
    const a = await setup();
    const b = await setup();
    expect(a.dashboard.url).toBe(`http://127.0.0.1:${a.dashboard.port}/?token=${a.dashboard.token}`);
    expect(a.dashboard.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(a.dashboard.token).not.toBe(b.dashboard.token);
  });

  it('serves nothing without the token, and the page with it, setting a session cookie for its assets', async () => {
    const { dashboard } = await setup();
    const port = dashboard.port;
    expect((await get(port, '/')).status).toBe(401);
    expect((await get(port, '/assets/app.js')).status).toBe(401);
    // One character off, and surely different from the real token.
    const wrong = dashboard.token.slice(0, -1) + (dashboard.token.endsWith('x') ? 'y' : 'x');
    expect((await get(port, `/?token=${wrong}`)).status).toBe(401);

    const page = await get(port, `/?token=${dashboard.token}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Kafka Tunnels</title>');
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self';.*frame-ancestors 'none'/);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['cache-control']).toBe('no-store');
    const cookie = String(page.headers['set-cookie']).split(';')[0];
    expect(String(page.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);

    const asset = await get(port, '/assets/app.js', { cookie });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(asset.body).toBe('console.log(1)');
    expect((await get(port, '/assets/app.js', { cookie: `${cookie}x` })).status).toBe(401);
  });

  it('never serves a file outside its directory, nor answers to a foreign Host name', async () => {
    const { dashboard, dir } = await setup();
    const q = `?token=${dashboard.token}`;
    const sibling = `${dir.split('/').pop()}-secret.txt`;
    for (const path of [`/..%2f${sibling}`, `/%2e%2e/${sibling}`, `/assets/..%2f..%2f${sibling}`, `/..%5c${sibling}`, '/%00index.html']) {
      const reply = await get(dashboard.port, path + q);
      expect(reply.status, path).toBe(404);
    }
    expect((await get(dashboard.port, `/missing.js${q}`)).status).toBe(404);
    // A DNS-rebinding page reaches 127.0.0.1 under its own name.
    expect((await get(dashboard.port, `/${q}`, { host: `attacker.example:${dashboard.port}` })).status).toBe(421);
    expect((await get(dashboard.port, `/${q}`, { host: `localhost:${dashboard.port}` })).status).toBe(200);
  });

  it('refuses RPC upgrades without the token or from another origin', async () => {
    const { dashboard } = await setup();
    const port = dashboard.port;
    const own = `http://127.0.0.1:${port}`;
    expect(await upgrade(port, '/rpc', { origin: own })).toBe(401);
    expect(await upgrade(port, '/rpc?token=wrong-token-wrong-token', { origin: own })).toBe(401);
    expect(await upgrade(port, `/rpc?token=${dashboard.token}`, { origin: 'http://evil.example' })).toBe(403);
    expect(await upgrade(port, `/rpc?token=${dashboard.token}`, {})).toBe(403);
    expect(await upgrade(port, `/elsewhere?token=${dashboard.token}`, { origin: own })).toBe(404);
    expect(await upgrade(port, `/rpc?token=${dashboard.token}`, { origin: own })).toBe(101);
    // The cookie the page load set is as good as the query.
    expect(await upgrade(port, '/rpc', { origin: own, cookie: `kafka_tunnels_${port}=${dashboard.token}` })).toBe(101);
  });

  it('serves the ControlService contract to the renderer’s bridge: results, coded errors and pushes', async () => {
    const { dashboard } = await setup();
    const bridge = bridgeFor(dashboard);
    expect(await bridge.invoke('app:info')).toMatchObject({ host: 'dashboard', version: '7.7.7' });

    await expect(bridge.invoke('profiles:save', { id: 'x', name: 'X', broker: 'nope' })).rejects.toMatchObject({
      name: 'ShimError',
      code: 'INVALID_PROFILE',
      message: expect.stringMatching(/broker/),
    });

    const profiles = new Promise((resolve) => bridge.subscribe('push:profiles', resolve));
    const saved = await bridge.invoke('profiles:save', {
      id: 'prod',
      name: 'Prod',
      broker: '127.0.0.1:1',
      listenPort: 0,
      headers: [{ name: 'Authorization', value: 'Bearer s3cret', secret: true }],
    });
    // Secrets never travel to the page.
    expect(saved.headers).toEqual([{ name: 'Authorization', secret: true, valueSet: true }]);
    expect(await profiles).toMatchObject([{ id: 'prod', name: 'Prod' }]);

    const stats = await new Promise<TunnelSnapshot[]>((resolve) => bridge.subscribe('push:stats', resolve));
    expect(stats).toMatchObject([{ id: 'prod', state: 'stopped' }]);

    const started = await bridge.invoke('tunnels:start', 'prod');
    expect(started.state).toBe('running');
    const running = await new Promise<TunnelSnapshot[]>((resolve) => {
      const off = bridge.subscribe('push:stats', (list) => {
        if (list[0]?.state !== 'running') return;
        off();
        resolve(list);
      });
    });
    expect(running[0].listen?.port).toBe(started.listen?.port);
    expect((await bridge.invoke('tunnels:stop', 'prod')).state).toBe('stopped');
  });

  it('answers a malformed request with a coded error and keeps the socket', async () => {
    const { dashboard } = await setup();
    const ws = new WebSocket(`ws://127.0.0.1:${dashboard.port}/rpc?token=${dashboard.token}`, { origin: `http://127.0.0.1:${dashboard.port}` });
    cleanups.push(() => ws.terminate());
    await once(ws, 'open');
    const replies: unknown[] = [];
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      if (!('push' in msg)) replies.push(msg);
    });
    ws.send(JSON.stringify({ id: 1, channel: 'fs:read', args: ['/etc/passwd'] }));
    ws.send(JSON.stringify({ id: 2, channel: 'tunnels:start', args: ['../../etc'] }));
    ws.send(JSON.stringify({ id: 3, channel: 'app:info', args: [] }));
    await expect.poll(() => replies.length).toBe(3);
    const byId = new Map(replies.map((r) => [(r as { id: number }).id, r]));
    expect(byId.get(1)).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', message: 'There is no channel called "fs:read".' } });
    expect(byId.get(2)).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(byId.get(3)).toMatchObject({ ok: true, value: { host: 'dashboard' } });

    ws.send('not json');
    const [code] = await once(ws, 'close');
    expect(code).toBe(1007);
  });

  it('frees its port and drops connected pages on close', async () => {
    const { dashboard } = await setup();
    const bridge = bridgeFor(dashboard);
    await bridge.invoke('app:info');
    const statuses: string[] = [];
    bridge.onStatus((s) => statuses.push(s));
    await dashboard.close();
    await expect.poll(() => statuses[0]).toBe('closed');
    const probe = createServer();
    probe.listen(dashboard.port, '127.0.0.1');
    await once(probe, 'listening');
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });

  it('says in a sentence that its port is taken', async () => {
    const { dashboard } = await setup();
    const service = { invoke: async () => undefined, onPush: () => () => undefined } as never;
    await expect(startDashboard({ host: '127.0.0.1', port: dashboard.port, service, staticDir: '/nonexistent' })).rejects.toMatchObject({
      code: 'PORT_IN_USE',
      message: `Port ${dashboard.port} on 127.0.0.1 is already in use by another program; choose another port for the dashboard`,
    });
  });

  it('explains an unbuilt dashboard instead of a bare 404', async () => {
    const service = { invoke: async () => undefined, onPush: () => () => undefined } as never;
    const dashboard = await startDashboard({ host: '127.0.0.1', port: 0, service, staticDir: join(tmpdir(), 'no-such-dashboard-build') });
    cleanups.push(() => dashboard.close());
    const reply = await get(dashboard.port, `/?token=${dashboard.token}`);
    expect(reply.status).toBe(503);
    expect(reply.body).toContain('npm run build:renderer');
  });
});
