import type { TunnelEvent } from '../shared/stats.ts';

/**
 * Which tunnel events deserve an OS notification, decided without Electron so the
 * throttle and the "dashboard is looking" rule are tested. A person wants to hear
 * that a tunnel broke, once, not once per client retry.
 */

/** Bridge close codes that mean the broker side is broken, not that a client left. */
const BROKER_FAILURES: Record<string, string> = {
  BROKER_UNREACHABLE: 'cannot reach the broker',
  BROKER_DNS: 'cannot find the broker',
  BROKER_TIMEOUT: 'the broker does not answer',
  BROKER_TLS: 'TLS with the broker failed',
  BROKER_HANDSHAKE_REJECTED: 'the broker refused the connection',
};

/** The same failure of the same tunnel is announced at most once in this window. */
export const DEFAULT_THROTTLE_MS = 5 * 60_000;

export interface NotificationContent {
  title: string;
  body: string;
}

export interface NotifyInput {
  event: TunnelEvent;
  /** Profile name for the title; the id when the profile is gone. */
  tunnelName: string;
  now: number;
  /** While the dashboard has focus, its event log already shows the failure. */
  dashboardFocused: boolean;
}

/** The notification an event warrants, ignoring throttling; null for none. */
export function describeFailure(event: TunnelEvent, tunnelName: string): (NotificationContent & { key: string }) | null {
  if (event.kind === 'tunnel-error') {
    // Nearly every tunnel error is a start that failed; a listener failing later is the exception.
    const title = event.code === 'LISTENER_ERROR' ? `${tunnelName} stopped working` : `${tunnelName} could not start`;
    return { key: `${event.tunnelId}:${event.code ?? 'tunnel'}`, title, body: event.message };
  }
  if ((event.kind === 'connection-closed' || event.kind === 'protocol-error') && event.code && event.code in BROKER_FAILURES) {
    return {
      key: `${event.tunnelId}:${event.code}`,
      title: `${tunnelName}: ${BROKER_FAILURES[event.code]}`,
      body: withoutConnectionPrefix(event.message),
    };
  }
  return null;
}

/**
 * The tunnel wraps bridge messages as "Connection 12 from 127.0.0.1:5000 closed: ...
 * (sent 0 B in 0 frames, ...)"; the notification is about the tunnel, not the client.
 */
function withoutConnectionPrefix(message: string): string {
  return message.replace(/^Connection \d+(?: from \S+ closed)?: /, '').replace(/ \(sent [^()]*\)$/, '');
}

/** Remembers what was shown when; `decide` is the one place that says yes or no. */
export class NotificationThrottle {
  readonly #lastShown = new Map<string, number>();
  readonly #windowMs: number;

  constructor(options: { windowMs?: number } = {}) {
    this.#windowMs = options.windowMs ?? DEFAULT_THROTTLE_MS;
  }

  decide(input: NotifyInput): NotificationContent | null {
    const content = describeFailure(input.event, input.tunnelName);
    if (!content || input.dashboardFocused) return null;
    const last = this.#lastShown.get(content.key);
    if (last !== undefined && input.now - last < this.#windowMs) return null;
    this.#lastShown.set(content.key, input.now);
    return { title: content.title, body: content.body };
  }

  /** A tunnel that was stopped on purpose starts with a clean slate. */
  forget(tunnelId: string): void {
    for (const key of [...this.#lastShown.keys()]) if (key.startsWith(`${tunnelId}:`)) this.#lastShown.delete(key);
  }
}
