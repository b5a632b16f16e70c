import { readFileSync } from 'node:fs';
import type { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { getProxyForUrl } from 'proxy-from-env';
import { ShimError } from '../shared/errors.ts';
import { STREAM_FROM_BYTES, STREAM_HEAD_BYTES } from './framing.ts';
import { HandshakeError, openWebSocket } from './ws/handshake.ts';
import { BrokerLink } from './ws/link.ts';

/**
 * Opening the WebSocket to the broker: headers, TLS options, outbound HTTP proxy,
 * connect timeout, and the original proxy's retry policy (5 tries, 200 ms doubling).
 */

export interface DialTarget {
  url: string;
  headers: Record<string, string>;
  /** PEM text of extra CAs to trust (read once, at tunnel start). */
  ca?: string;
  /** False only on the person's explicit opt-out. */
  rejectUnauthorized: boolean;
  /** Explicit proxy URL; undefined means HTTPS_PROXY / HTTP_PROXY / NO_PROXY. */
  httpProxy?: string;
  /** Largest message accepted from the broker (a whole frame, prefix included). */
  maxPayload: number;
}

export interface DialPolicy {
  timeoutMs: number;
  attempts: number;
  retryDelayMs: number;
}

export type DialErrorCode =
  | 'BROKER_UNREACHABLE'
  | 'BROKER_DNS'
  | 'BROKER_TIMEOUT'
  | 'BROKER_TLS'
  | 'BROKER_HANDSHAKE_REJECTED'
  | 'BROKER_CONFIG';

export class DialError extends ShimError {
  /** HTTP status of a refused upgrade. */
  readonly status?: number;
  /** Worth another try: network trouble, 5xx, timeouts. Not: auth, TLS trust, 4xx. */
  readonly retryable: boolean;
  constructor(code: DialErrorCode, message: string, options: { retryable: boolean; status?: number; cause?: unknown }) {
    super(code, message, { cause: options.cause });
    this.name = 'DialError';
    this.retryable = options.retryable;
    this.status = options.status;
  }
}

/** Reads the CA file up front so a wrong path is a start-up error, not a per-connection one. */
export function loadCa(path: string | undefined): string | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ShimError('INVALID_PROFILE', `Cannot read the CA file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

const proxyAgents = new Map<string, Agent>();

async function agentFor(target: DialTarget): Promise<Agent | undefined> {
  const httpEquivalent = target.url.replace(/^ws/, 'http');
  const proxy = target.httpProxy ?? getProxyForUrl(httpEquivalent);
  if (!proxy) return undefined;
  // One agent per proxy URL; agents are stateless enough to share across tunnels.
  let agent = proxyAgents.get(proxy);
  if (!agent) {
    // Loaded only when a proxy is in use: most people have none, and it is not small.
    const { HttpsProxyAgent } = await import('https-proxy-agent');
    agent = new HttpsProxyAgent(proxy, { keepAlive: false });
    proxyAgents.set(proxy, agent);
  }
  return agent;
}

/** Where the URL is shown to people or logs: no credentials, no query (it may carry tokens). */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** One attempt: resolves with an open link to the broker or rejects with a DialError. */
export async function dialOnce(target: DialTarget, timeoutMs: number, signal?: AbortSignal): Promise<BrokerLink> {
  const where = describeUrl(target.url);
  const agent = await agentFor(target);
  let opened;
  try {
    opened = await openWebSocket({ url: target.url, headers: target.headers, ca: target.ca, rejectUnauthorized: target.rejectUnauthorized, agent, timeoutMs }, signal);
  } catch (err) {
    if (signal?.aborted) throw new DialError('BROKER_UNREACHABLE', `Connecting to ${where} was cancelled`, { retryable: false });
    throw classify(err as HandshakeError, where);
  }
  const link = new BrokerLink(opened.socket, { maxMessageBytes: target.maxPayload, streamFromBytes: STREAM_FROM_BYTES, headBytes: STREAM_HEAD_BYTES });
  // Frames that came with the 101 answer are read first.
  if (opened.head.length > 0) opened.socket.unshift(opened.head);
  return link;
}

/** Dials with retries and exponential backoff; `onRetry` hears about each failed try. */
export async function dial(
  target: DialTarget,
  policy: DialPolicy,
  options: { signal?: AbortSignal; onRetry?: (err: DialError, attempt: number, delayMs: number) => void } = {},
): Promise<BrokerLink> {
  let delay = policy.retryDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await dialOnce(target, policy.timeoutMs, options.signal);
    } catch (err) {
      const e = err as DialError;
      if (!e.retryable || attempt >= policy.attempts || options.signal?.aborted) {
        if (attempt > 1 && e.retryable) {
          throw new DialError(e.code as DialErrorCode, `${e.message} (gave up after ${attempt} tries)`, { retryable: false, status: e.status, cause: e });
        }
        throw e;
      }
      options.onRetry?.(e, attempt, delay);
      try {
        await sleep(delay, undefined, { signal: options.signal });
      } catch {
        throw new DialError('BROKER_UNREACHABLE', `Connecting to ${describeUrl(target.url)} was cancelled`, { retryable: false });
      }
      delay *= 2;
    }
  }
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_NOT_YET_VALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

function classify(err: HandshakeError, where: string): DialError {
  switch (err.kind) {
    case 'url':
      return new DialError('BROKER_CONFIG', `Cannot connect to ${where}: ${err.message}`, { retryable: false, cause: err });
    case 'refused':
      return refusal(err.status ?? 0, err.statusMessage ?? '', where);
    case 'invalid':
      return new DialError('BROKER_HANDSHAKE_REJECTED', `Broker ${where} answered the WebSocket upgrade wrongly: ${err.message}`, { retryable: false, cause: err });
    case 'timeout':
      return new DialError('BROKER_TIMEOUT', `Broker ${where} did not complete the WebSocket handshake in time`, { retryable: true, cause: err });
    case 'network':
      break;
  }
  const code = err.code ?? '';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new DialError('BROKER_DNS', `Cannot resolve the broker host of ${where}`, { retryable: code === 'EAI_AGAIN', cause: err });
  }
  if (code === 'ECONNREFUSED') {
    return new DialError('BROKER_UNREACHABLE', `Broker ${where} refused the connection (is it running?)`, { retryable: true, cause: err });
  }
  if (TLS_CODES.has(code) || /certificate|SSL|TLS/i.test(err.message)) {
    return new DialError('BROKER_TLS', `TLS with ${where} failed: ${err.message}`, { retryable: false, cause: err });
  }
  if (/timed out|timeout/i.test(err.message) || code === 'ETIMEDOUT') {
    return new DialError('BROKER_TIMEOUT', `Broker ${where} did not complete the WebSocket handshake in time`, { retryable: true, cause: err });
  }
  return new DialError('BROKER_UNREACHABLE', `Cannot reach broker ${where}: ${err.message}`, { retryable: true, cause: err });
}

function refusal(status: number, statusMessage: string, where: string): DialError {
  if (status === 407) {
    return new DialError('BROKER_HANDSHAKE_REJECTED', `The HTTP proxy on the way to ${where} asks for credentials (HTTP 407); put them in the proxy URL`, {
      retryable: false,
      status,
    });
  }
  const reason = status === 401 || status === 403 ? 'check the credentials in the profile headers' : statusMessage.trim();
  return new DialError('BROKER_HANDSHAKE_REJECTED', `Broker ${where} refused the WebSocket upgrade with HTTP ${status}${reason ? ` (${reason})` : ''}`, {
    retryable: status >= 500,
    status,
  });
}

