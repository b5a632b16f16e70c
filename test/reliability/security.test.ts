import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { profileSchema } from '../../shared/profile.ts';
import type { TunnelEvent } from '../../shared/stats.ts';
import { exportProfiles } from '../../proxy/control/profile-transfer.ts';
import { createEngine } from '../../proxy/engine.ts';
import { Tunnel } from '../../proxy/tunnel.ts';
import { startCli, type RunningCli } from '../support/process.ts';
import { FrameReader, connectClient, kafkaFrame, testProfile } from '../support/sockets.ts';
import { FaultBroker } from './fault-broker.ts';

/**
 * Issue #8.5, security: tunnels listen on loopback unless told otherwise (and
 * say so loudly when told), and secrets — header values, credentials and query
 * tokens in the broker URL, proxy credentials — never appear in logs, events,
 * snapshots or exports, on success or on any failure path. Each test first
 * proves the secret was really used (the broker saw it), so "absent from the
 * output" means redacted, not unused.
 *
 * The dashboard's token and origin checks are the dashboard's own tests; IPC
 * redaction of header values is proved in proxy/control/service.test.ts.
 */

const HEADER_SECRET = 'hdr-7f3a9c-SECRET';
const QUERY_SECRET = 'qry-51be02-SECRET';
const URL_USER = 'usr-c0ffee';
const URL_PASSWORD = 'pwd-d00d42-SECRET';
const PROXY_PASSWORD = 'prx-abad1d-SECRET';
const CANARIES = [HEADER_SECRET, QUERY_SECRET, URL_USER, URL_PASSWORD, PROXY_PASSWORD];

function expectNoSecrets(what: string, text: string): void {
  for (const canary of CANARIES) expect(text.includes(canary), `${what} contains ${canary}:\n${text}`).toBe(false);
}

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function faultBroker(): Promise<FaultBroker> {
  const broker = await FaultBroker.start();
  cleanups.push(() => broker.close());
  return broker;
}

function cli(args: string[]): RunningCli {
  const c = startCli(args);
  cleanups.push(() => c.stop('SIGKILL'));
  return c;
}

/** Local addresses listening on `port` (IPv4, from the kernel's own table). */
function listenersOn(port: number): string[] {
  const found: string[] = [];
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const [, local, , state] = line.trim().split(/\s+/);
    if (!local || state !== '0A') continue;
    const [hexIp, hexPort] = local.split(':');
    if (parseInt(hexPort, 16) !== port) continue;
    // The address is printed in host byte order (little-endian here).
    found.push([3, 2, 1, 0].map((i) => parseInt(hexIp.slice(i * 2, i * 2 + 2), 16)).join('.'));
  }
  return found;
}

/** One request through the tunnel; resolves when the client's connection has ended. */
async function attempt(port: number, expectEcho: boolean): Promise<void> {
  const socket = await connectClient(port);
  const reader = new FrameReader(socket);
  socket.write(kafkaFrame('secret-free payload'));
  if (expectEcho) {
    await reader.waitFor(1);
    socket.end();
  }
  await reader.waitForEnd();
}

describe('loopback by default (issue #8.5)', () => {
  it('a profile that does not choose a host listens on 127.0.0.1 only, as the kernel confirms', async () => {
    const profile = profileSchema.parse({ id: 'p', name: 'P', broker: 'broker.example:443', listenPort: 0 });
    expect(profile.listenHost).toBe('127.0.0.1');
    const tunnel = new Tunnel(profile);
    const events: TunnelEvent[] = [];
    tunnel.on('event', (e) => events.push(e));
    await tunnel.start();
    cleanups.push(() => tunnel.stop());
    expect(tunnel.snapshot().listen).toEqual({ host: '127.0.0.1', port: tunnel.port });
    expect(listenersOn(tunnel.port)).toEqual(['127.0.0.1']);
    expect(events.some((e) => e.code === 'NON_LOOPBACK_BIND')).toBe(false);
  });

  it('the CLI listens on loopback by default, and warns in its log when told to listen on every interface', async () => {
    const quiet = cli(['-port', '0', '-broker', '127.0.0.1:1']);
    const [, port] = await quiet.waitFor(/Kafka bootstrap address: localhost:(\d+)/);
    expect(listenersOn(Number(port))).toEqual(['127.0.0.1']);
    expect(quiet.stderr()).not.toMatch(/WARN/);
    await quiet.stop();

    // Port 0 and stopped at once: the wildcard bind is as short-lived as it can be.
    const exposed = cli(['-port', '0', '-broker', '127.0.0.1:1', '--listen', '0.0.0.0']);
    const [, wildPort] = await exposed.waitFor(/Kafka bootstrap address: localhost:(\d+)/);
    await exposed.waitFor(/WARN: Listening on 0\.0\.0\.0: other computers on the network can reach this tunnel/);
    expect(listenersOn(Number(wildPort))).toEqual(['0.0.0.0']);
    await exposed.stop();
  });
});

describe('secrets stay secret (issue #8.5)', () => {
  it('CLI: a secret header and URL credentials and token never reach the log, on success or failure', async () => {
    const broker = await faultBroker();
    const proxy = cli([
      '-port',
      '0',
      '--url',
      `ws://${URL_USER}:${URL_PASSWORD}@127.0.0.1:${broker.port}/kafka?token=${QUERY_SECRET}`,
      '--header',
      `Authorization: Bearer ${HEADER_SECRET}`,
    ]);
    const [, port] = await proxy.waitFor(/Kafka bootstrap address: localhost:(\d+)/);
    await attempt(Number(port), true);
    // The secrets were used: the broker saw every one of them.
    expect(broker.upgrades[0].headers.authorization).toBe(`Bearer ${HEADER_SECRET}`);
    expect(broker.upgrades[0].url).toBe(`/kafka?token=${QUERY_SECRET}`);

    // A refusal, and a failure retried with the original's backoff (each retry is logged).
    for (const mode of [{ kind: 'reject', status: 401 }, { kind: 'drop' }] as const) {
      broker.mode = mode;
      await attempt(Number(port), false);
    }
    await proxy.waitFor(/HTTP 401/);
    await proxy.waitFor(/socket hang up.*gave up after 5 tries/);
    await proxy.stop();
    expect(proxy.stdout()).toMatch(`(tunnel to ws://127.0.0.1:${broker.port}/kafka)`);
    expectNoSecrets('CLI output', proxy.stdout() + proxy.stderr());
  });

  it('engine: events and snapshots name the broker without credentials or query, through success, refusals, timeouts and a dead broker', async () => {
    const broker = await faultBroker();
    const engine = createEngine();
    cleanups.push(() => engine.stopAll());
    const events: TunnelEvent[] = [];
    engine.on('event', (e) => events.push(e));
    const snapshots: unknown[] = [];
    engine.on('state', (s) => snapshots.push(s));
    const profile = testProfile({
      id: 'secret',
      broker: `ws://${URL_USER}:${URL_PASSWORD}@127.0.0.1:${broker.port}/kafka?token=${QUERY_SECRET}`,
      headers: [{ name: 'Authorization', value: `Bearer ${HEADER_SECRET}`, secret: true }],
      connectTimeoutMs: 200,
    });
    const started = await engine.start(profile);
    expect(started.brokerUrl).toBe(`ws://127.0.0.1:${broker.port}/kafka`);
    const port = started.listen!.port;

    await attempt(port, true);
    expect(broker.upgrades[0].headers.authorization).toBe(`Bearer ${HEADER_SECRET}`);
    expect(broker.upgrades[0].url).toBe(`/kafka?token=${QUERY_SECRET}`);
    for (const mode of [{ kind: 'reject', status: 401 }, { kind: 'reject', status: 403 }, { kind: 'hang' }, { kind: 'drop' }] as const) {
      broker.mode = mode;
      await attempt(port, false);
      snapshots.push(engine.snapshot('secret'));
    }
    await broker.close();
    await attempt(port, false);
    snapshots.push(engine.snapshots());
    await engine.stop('secret');

    const codes = events.filter((e) => e.kind === 'connection-closed').map((e) => e.code);
    expect(codes).toEqual(['CLIENT_CLOSED', 'BROKER_HANDSHAKE_REJECTED', 'BROKER_HANDSHAKE_REJECTED', 'BROKER_TIMEOUT', 'BROKER_UNREACHABLE', 'BROKER_UNREACHABLE']);
    expectNoSecrets('events', JSON.stringify([events, engine.events()]));
    expectNoSecrets('snapshots', JSON.stringify(snapshots));
  });

  it('engine: proxy credentials stay out of events when the proxy refuses', async () => {
    // A proxy that demands authentication it will never accept.
    const proxy = createServer((socket) => {
      socket.once('data', () => socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n'));
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    cleanups.push(() => new Promise((resolve) => proxy.close(resolve)));
    const engine = createEngine();
    cleanups.push(() => engine.stopAll());
    const events: TunnelEvent[] = [];
    engine.on('event', (e) => events.push(e));
    const started = await engine.start(
      testProfile({ id: 'via-proxy', broker: 'broker.invalid:443', httpProxy: `http://proxyuser:${PROXY_PASSWORD}@127.0.0.1:${(proxy.address() as { port: number }).port}` }),
    );
    await attempt(started.listen!.port, false);
    const closed = events.find((e) => e.kind === 'connection-closed');
    expect(closed).toMatchObject({ level: 'error', message: expect.stringMatching(/HTTP 407/) });
    expectNoSecrets('events', JSON.stringify([events, engine.snapshots()]));
  });

  it('export without secrets leaves out secret header values, keeping the header so it can be entered again', () => {
    const profile = testProfile({ headers: [{ name: 'Authorization', value: `Bearer ${HEADER_SECRET}`, secret: true }, { name: 'X-Team', value: 'blue' }] });
    const exported = exportProfiles([profile], { includeSecrets: false });
    expectNoSecrets('export', exported);
    expect(JSON.parse(exported).profiles[0].headers).toEqual([{ name: 'Authorization', secret: true }, { name: 'X-Team', value: 'blue', secret: false }]);
    // The detector would have seen it: asked for, the secret is there.
    expect(exportProfiles([profile], { includeSecrets: true })).toContain(HEADER_SECRET);
  });
});
