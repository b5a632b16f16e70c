import { describe, expect, it } from 'vitest';
import type { TunnelEvent } from '../shared/stats.ts';
import { NotificationThrottle, describeFailure } from './notifications.ts';

let seq = 0;
function event(overrides: Partial<TunnelEvent>): TunnelEvent {
  return { seq: ++seq, tunnelId: 'prod', time: 0, level: 'error', kind: 'connection-closed', message: 'x', ...overrides };
}

const rejected = event({
  code: 'BROKER_HANDSHAKE_REJECTED',
  message:
    'Connection 4 from 127.0.0.1:53122 closed: Broker wss://b.example/ refused the WebSocket upgrade with HTTP 401 (Unauthorized) (sent 0 B in 0 frames, received 0 B in 0 frames)',
});

describe('describeFailure', () => {
  it('announces a tunnel that failed to start, with the engine sentence as body', () => {
    const n = describeFailure(event({ kind: 'tunnel-error', code: 'PORT_IN_USE', message: 'Port 9092 is already in use' }), 'Prod');
    expect(n).toEqual({ key: 'prod:PORT_IN_USE', title: 'Prod could not start', body: 'Port 9092 is already in use' });
    expect(describeFailure(event({ kind: 'tunnel-error', code: 'LISTENER_ERROR' }), 'Prod')?.title).toBe('Prod stopped working');
  });

  it('announces broker failures on a connection, without the connection number', () => {
    expect(describeFailure(rejected, 'Prod')).toEqual({
      key: 'prod:BROKER_HANDSHAKE_REJECTED',
      title: 'Prod: the broker refused the connection',
      body: 'Broker wss://b.example/ refused the WebSocket upgrade with HTTP 401 (Unauthorized)',
    });
    expect(describeFailure(event({ code: 'BROKER_UNREACHABLE', message: 'Connection 2: Broker down' }), 'Prod')).toMatchObject({
      title: 'Prod: cannot reach the broker',
      body: 'Broker down',
    });
    expect(describeFailure(event({ kind: 'protocol-error', code: 'BROKER_TIMEOUT' }), 'Prod')?.title).toBe('Prod: the broker does not answer');
  });

  it('stays quiet for ordinary traffic: clients leaving, warnings, info', () => {
    expect(describeFailure(event({ code: 'CLIENT_CLOSED', level: 'info' }), 'Prod')).toBeNull();
    expect(describeFailure(event({ code: 'FRAME_TOO_LARGE' }), 'Prod')).toBeNull();
    expect(describeFailure(event({ kind: 'broker-retry', code: 'BROKER_UNREACHABLE' }), 'Prod')).toBeNull();
    expect(describeFailure(event({ kind: 'tunnel-started', level: 'info' }), 'Prod')).toBeNull();
  });
});

describe('NotificationThrottle', () => {
  it('shows a failure once per window per tunnel and code', () => {
    const t = new NotificationThrottle({ windowMs: 1000 });
    const at = (now: number, e = rejected, tunnelName = 'Prod') => t.decide({ event: e, tunnelName, now, dashboardFocused: false });
    expect(at(0)).not.toBeNull();
    expect(at(999)).toBeNull();
    // A different failure of the same tunnel, or the same failure elsewhere, is news.
    expect(at(999, event({ code: 'BROKER_UNREACHABLE' }))).not.toBeNull();
    expect(at(999, { ...rejected, tunnelId: 'staging' }, 'Staging')).not.toBeNull();
    expect(at(1000)).not.toBeNull();
  });

  it('suppresses notifications while the dashboard is focused, without using up the window', () => {
    const t = new NotificationThrottle({ windowMs: 1000 });
    expect(t.decide({ event: rejected, tunnelName: 'Prod', now: 0, dashboardFocused: true })).toBeNull();
    expect(t.decide({ event: rejected, tunnelName: 'Prod', now: 1, dashboardFocused: false })).toEqual({
      title: 'Prod: the broker refused the connection',
      body: expect.stringContaining('HTTP 401'),
    });
  });

  it('forgets a tunnel stopped on purpose, so its next failure is announced', () => {
    const t = new NotificationThrottle({ windowMs: 1000 });
    expect(t.decide({ event: rejected, tunnelName: 'Prod', now: 0, dashboardFocused: false })).not.toBeNull();
    t.forget('prod');
    expect(t.decide({ event: rejected, tunnelName: 'Prod', now: 1, dashboardFocused: false })).not.toBeNull();
  });
});
