import { reachableHost } from '../../shared/profile.ts';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { DASHBOARD_RPC_PATH, DASHBOARD_TOKEN_PARAM } from '../../shared/dashboard-rpc.ts';
import { ShimError } from '../../shared/errors.ts';
import { accessPolicy, newToken, sessionCookie, type AccessPolicy } from './access.ts';
import { serveRpcSocket, type DashboardService } from './rpc-socket.ts';
import { resolveStatic, securityHeaders, sendFile, sendPage } from './static-files.ts';

/**
 * The headless dashboard (issue #6): serves the built renderer and the browser
 * bridge's RPC WebSocket from one loopback port, behind a random access token.
 * Plain node:http and ws; the ControlService does the real work, exactly as it
 * does behind Electron's IPC.
 */

export interface DashboardOptions {
  /** Bind address; loopback unless the person asked otherwise. */
  host: string;
  /** 0 picks a free port. */
  port: number;
  service: DashboardService;
  /** The built renderer (dist/renderer). */
  staticDir: string;
  /** Fixed token (tests, scripted setups); random otherwise. */
  token?: string;
}

export interface Dashboard {
  /** What to open: carries the token. */
  url: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

/** JSON import of many profiles is the largest message the page sends. */
const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
const MIN_TOKEN_LENGTH = 16;

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const token = options.token ?? newToken();
  if (token.length < MIN_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) {
    throw new ShimError('INVALID_ARGUMENT', `The dashboard token must be at least ${MIN_TOKEN_LENGTH} letters, digits, - or _`);
  }
  const server = createServer();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });
  // The port is known only after listen(); requests cannot arrive before then.
  let policy: AccessPolicy | null = null;
  let port = 0;

  server.on('request', (req, res) => void handleRequest(req, res));
  server.on('upgrade', (req, socket, head) => handleUpgrade(req, socket, head));

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    securityHeaders(res);
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    if (!policy!.hostAllowed(req)) {
      sendPage(res, 421, 'Wrong address', 'This dashboard only answers at the address kafka-websocket-proxy printed.');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      sendPage(res, 405, 'Not allowed', 'The dashboard page only reads.');
      return;
    }
    const source = policy!.tokenSource(req, url);
    if (source === null) {
      sendPage(res, 401, 'Access token needed', 'Open the full address kafka-websocket-proxy printed when it started: it carries the access token.');
      return;
    }
    const file = resolveStatic(options.staticDir, url.pathname);
    if (file === null) {
      sendPage(res, 404, 'Not found', 'There is nothing at this address.');
      return;
    }
    const isPage = url.pathname === '/' || url.pathname === '/index.html';
    const extraHeaders = source === 'query' ? { 'Set-Cookie': sessionCookie(port, token) } : undefined;
    const sent = await sendFile(res, file, { head: req.method === 'HEAD', extraHeaders });
    if (sent) return;
    if (isPage) {
      sendPage(res, 503, 'Dashboard not built', 'The dashboard page has not been built yet: run npm run build:renderer, then reload.');
    } else {
      sendPage(res, 404, 'Not found', 'There is nothing at this address.');
    }
  }

  function refuse(socket: Duplex, status: number, reason: string): void {
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    if (url.pathname !== DASHBOARD_RPC_PATH) return refuse(socket, 404, 'Not Found');
    if (!policy!.originAllowed(req)) return refuse(socket, 403, 'Forbidden');
    if (policy!.tokenSource(req, url) === null) return refuse(socket, 401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => serveRpcSocket(ws, options.service));
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.close();
      reject(listenError(err, options.host, options.port));
    };
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  port = (server.address() as { port: number }).port;
  policy = accessPolicy({ token, bindHost: options.host, port });

  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost(options.host)}:${port}/?${DASHBOARD_TOKEN_PARAM}=${token}`,
    token,
    port,
    close() {
      closing ??= (async () => {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closing;
    },
  };
}

/** The renderer's build output, relative to the project root. */
export function defaultStaticDir(): string {
  return join(import.meta.dirname, '..', '..', 'dist', 'renderer');
}

/** A wildcard bind is reachable at loopback too, and that is the address to print. */
function urlHost(host: string): string {
  const reachable = reachableHost(host);
  return reachable.includes(':') ? `[${reachable}]` : reachable;
}

function listenError(err: NodeJS.ErrnoException, host: string, port: number): ShimError {
  switch (err.code) {
    case 'EADDRINUSE':
      return new ShimError('PORT_IN_USE', `Port ${port} on ${host} is already in use by another program; choose another port for the dashboard`, { cause: err });
    case 'EACCES':
      return new ShimError('PORT_ACCESS_DENIED', `This system does not allow the dashboard to listen on port ${port} of ${host}`, { cause: err });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new ShimError('ADDRESS_NOT_AVAILABLE', `Cannot listen on ${host}: that address does not belong to this computer`, { cause: err });
    default:
      return new ShimError('INTERNAL', `The dashboard cannot listen on ${host}:${port}: ${err.message}`, { cause: err });
  }
}
