import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, WebSocket, type WebSocket as ServerSocket } from 'ws';
import { BrowserBridge, type BridgeStatus } from './browser-bridge.ts';
import { rpcUrl, takeToken } from './pick-api.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A scripted dashboard server: answers app:info, never answers 'tunnels:test'. */
async function server() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const sockets: ServerSocket[] = [];
  const received: { id: number; channel: string; args: unknown[] }[] = [];
  wss.on('connection', (ws) => {
    sockets.push(ws);
    ws.on('message', (data) => {
      const req = JSON.parse(data.toString());
      received.push(req);
      if (req.channel === 'app:info') ws.send(JSON.stringify({ id: req.id, ok: true, value: { version: '1', host: 'dashboard', platform: 'x', secretStorage: false } }));
      if (req.channel === 'tunnels:start') ws.send(JSON.stringify({ id: req.id, ok: false, error: { name: 'ShimError', code: 'NOT_FOUND', message: 'There is no profile with id x' } }));
    });
  });
  const port = (wss.address() as { port: number }).port;
  cleanups.push(() => new Promise<void>((resolve) => {
    for (const ws of wss.clients) ws.terminate();
    wss.close(() => resolve());
  }));
  return { wss, sockets, received, url: `ws://127.0.0.1:${port}/rpc` };
}

function bridge(url: string): BrowserBridge {
  const b = new BrowserBridge({ url, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket, reconnectDelayMs: 20 });
  cleanups.push(() => b.close());
  return b;
}

describe('BrowserBridge', () => {
  it('pairs replies with calls, turns errors back into coded errors, and routes pushes', async () => {
    const s = await server();
    const b = bridge(s.url);
    // Called before the socket is open: it waits rather than failing.
    const info = b.invoke('app:info');
    await expect(info).resolves.toMatchObject({ host: 'dashboard' });
    await expect(b.invoke('tunnels:start', 'x')).rejects.toMatchObject({ name: 'ShimError', code: 'NOT_FOUND', message: 'There is no profile with id x' });
    expect(s.received.map((r) => [r.channel, r.args])).toEqual([['app:info', []], ['tunnels:start', ['x']]]);

    const events: unknown[] = [];
    const off = b.subscribe('push:event', (e) => events.push(e));
    s.sockets[0].send(JSON.stringify({ push: 'push:event', payload: { seq: 1 } }));
    s.sockets[0].send(JSON.stringify({ push: 'push:unknown', payload: 1 }));
    s.sockets[0].send('garbage');
    await expect.poll(() => events).toEqual([{ seq: 1 }]);
    off();
    s.sockets[0].send(JSON.stringify({ push: 'push:event', payload: { seq: 2 } }));
    await b.invoke('app:info');
    expect(events).toEqual([{ seq: 1 }]);
  });

  it('fails calls lost with a dropped connection, reconnects, and carries on', async () => {
    const s = await server();
    const b = bridge(s.url);
    const statuses: BridgeStatus[] = [];
    b.onStatus((st) => statuses.push(st));
    await b.invoke('app:info');
    const lost = b.invoke('tunnels:test', { id: 'a', name: 'a', broker: 'h:1' });
    await expect.poll(() => s.received.length).toBe(2);
    s.sockets[0].terminate();
    await expect(lost).rejects.toMatchObject({ code: 'DISCONNECTED' });
    await expect(b.invoke('app:info')).resolves.toMatchObject({ host: 'dashboard' });
    expect(s.sockets).toHaveLength(2);
    expect(statuses).toEqual(['open', 'closed', 'connecting', 'open']);
  });
});

describe('page token', () => {
  it('takes the token from the address, strips it from the address bar and keeps it for reloads', () => {
    const replaced: string[] = [];
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    const history = { state: null, replaceState: (_s: unknown, _t: string, url?: string | URL | null) => void replaced.push(String(url)) };
    const token = takeToken({ location: { href: 'http://127.0.0.1:7070/?token=abc123&x=1#top', protocol: 'http:', host: '127.0.0.1:7070' }, history, storage });
    expect(token).toBe('abc123');
    expect(replaced).toEqual(['/?x=1#top']);
    // Reload: the address no longer has it.
    expect(takeToken({ location: { href: 'http://127.0.0.1:7070/?x=1#top', protocol: 'http:', host: '127.0.0.1:7070' }, history, storage })).toBe('abc123');
    expect(replaced).toHaveLength(1);
  });

  it('builds the RPC address on the page’s own host', () => {
    expect(rpcUrl({ protocol: 'http:', host: '127.0.0.1:7070' }, 'a b')).toBe('ws://127.0.0.1:7070/rpc?token=a%20b');
    expect(rpcUrl({ protocol: 'https:', host: 'box:1' }, null)).toBe('wss://box:1/rpc');
  });
});
