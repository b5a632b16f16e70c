import { isWildcardHost } from '../../shared/profile.ts';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { DASHBOARD_TOKEN_PARAM } from '../../shared/dashboard-rpc.ts';

/**
 * Who may use the headless dashboard (issue #6): whoever holds the token the CLI
 * printed. Every HTTP request and WebSocket upgrade must carry it, in the query
 * (the printed URL) or in the cookie the first page load sets. On top of that,
 * the Host must be one of the dashboard's own names (a DNS-rebinding page would
 * arrive under its own name) and a WebSocket's Origin must be the dashboard's own
 * page (another site's script cannot ride on the cookie).
 */

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Cookies are not port-scoped, so two dashboards on one host must not share a name. */
export function cookieName(port: number): string {
  return `kafka_tunnels_${port}`;
}

export function sessionCookie(port: number, token: string): string {
  return `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieValue(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

export type TokenSource = 'query' | 'cookie';

export interface AccessPolicy {
  /** Where a valid token came from, or null when there is none. */
  tokenSource(req: IncomingMessage, url: URL): TokenSource | null;
  /** Whether the Host header names this dashboard. */
  hostAllowed(req: IncomingMessage): boolean;
  /** Whether a WebSocket upgrade comes from this dashboard's own page. */
  originAllowed(req: IncomingMessage): boolean;
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

export function accessPolicy(options: { token: string; bindHost: string; port: number }): AccessPolicy {
  const { token, port } = options;
  const bound = options.bindHost.includes(':') ? `[${options.bindHost}]` : options.bindHost;
  // Bound to every address, the dashboard cannot know the names it is reached by;
  // the token alone decides then.
  const anyHost = isWildcardHost(options.bindHost);
  const allowedHosts = new Set([...LOOPBACK_NAMES, bound].map((h) => `${h.toLowerCase()}:${port}`));
  const name = cookieName(port);

  const hostAllowed = (req: IncomingMessage) => {
    const host = req.headers.host?.toLowerCase();
    if (!host) return false;
    return anyHost || allowedHosts.has(host);
  };

  return {
    tokenSource(req, url) {
      const fromQuery = url.searchParams.get(DASHBOARD_TOKEN_PARAM);
      if (fromQuery !== null && sameSecret(fromQuery, token)) return 'query';
      const fromCookie = cookieValue(req, name);
      if (fromCookie !== null && sameSecret(fromCookie, token)) return 'cookie';
      return null;
    },
    hostAllowed,
    originAllowed(req) {
      const origin = req.headers.origin;
      if (!origin || !hostAllowed(req)) return false;
      return origin.toLowerCase() === `http://${req.headers.host!.toLowerCase()}`;
    },
  };
}
