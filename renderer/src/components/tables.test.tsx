// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { TunnelEvent } from '../../../shared/stats.ts';
import { apiStats, runningSnapshot } from '../testing/fake-api.ts';
import { ApiTable } from './ApiTable.tsx';
import { ConnectionsTable } from './ConnectionsTable.tsx';
import { EventLog } from './EventLog.tsx';
import { StatCards } from './StatCards.tsx';

afterEach(cleanup);

describe('ApiTable', () => {
  it('lists APIs in key order with counts, errors and latency percentiles', () => {
    render(
      <ApiTable
        running
        apis={[
          apiStats({ apiKey: 3, name: 'Metadata', requests: 4, responses: 4, latencyMs: { p50: 2.34, p95: 3, p99: 12.6, max: 13 } }),
          apiStats({ apiKey: 0, name: 'Produce', requests: 10, responses: 9, errors: 2, requestBytes: 2048, latencyMs: { p50: 15.2, p95: 20, p99: 48, max: 50 } }),
          apiStats({ apiKey: 18, name: 'ApiVersions', requests: 1, responses: 1, local: 1 }),
        ]}
      />,
    );
    const rows = within(screen.getByRole('table', { name: 'Requests per Kafka API' })).getAllByRole('row').slice(1);
    expect(rows.map((r) => within(r).getByRole('rowheader').textContent)).toEqual(['Produce', 'Metadata', 'ApiVersionslocal']);
    const produce = within(rows[0]).getAllByRole('cell').map((c) => c.textContent);
    expect(produce).toEqual(['10', '2', '15 ms', '48 ms', '2.0 KiB', '0 B']);
    expect(within(rows[0]).getAllByRole('cell')[1].className).toContain('bad');
    expect(within(rows[1]).getAllByRole('cell').map((c) => c.textContent).slice(2, 4)).toEqual(['2.3 ms', '13 ms']);
  });

  it('shows a dash, not 0 ms, for an API that never got a response (acks=0 Produce)', () => {
    render(<ApiTable running apis={[apiStats({ apiKey: 0, name: 'Produce', requests: 5 })]} />);
    const cells = screen.getAllByRole('cell').map((c) => c.textContent);
    expect(cells.slice(2, 4)).toEqual(['—', '—']);
  });

  it('explains its emptiness differently for a stopped and a running tunnel', () => {
    const { rerender } = render(<ApiTable running={false} apis={[]} />);
    expect(screen.queryByRole('table')).toBeNull();
    expect(screen.getByText('Start the tunnel to see requests per Kafka API.')).toBeTruthy();
    rerender(<ApiTable running apis={[]} />);
    expect(screen.getByText(/No Kafka requests yet/)).toBeTruthy();
  });
});

describe('ConnectionsTable', () => {
  const now = Date.UTC(2025, 0, 1, 12, 0, 0);

  it('shows each client with its age, bytes each way, frames and state', () => {
    render(
      <ConnectionsTable
        running
        bootstrap="localhost:9092"
        now={now}
        connections={[
          { id: 1, clientAddress: '127.0.0.1:50000', since: now - 125_000, state: 'open', toBroker: { bytes: 1536, frames: 12 }, toClient: { bytes: 3 * 1024 * 1024, frames: 11 }, inFlight: 1, apis: [] },
          { id: 2, clientAddress: '127.0.0.1:50001', since: now - 500, state: 'connecting', toBroker: { bytes: 0, frames: 0 }, toClient: { bytes: 0, frames: 0 }, inFlight: 0, apis: [] },
        ]}
      />,
    );
    const rows = screen.getAllByRole('row').slice(1);
    expect(within(rows[0]).getByRole('rowheader').textContent).toBe('127.0.0.1:50000');
    expect(within(rows[0]).getAllByRole('cell').map((c) => c.textContent)).toEqual(['2m 5s', '1.5 KiB', '3.0 MiB', '12 / 11', '1', 'Open']);
    expect(within(rows[1]).getAllByRole('cell').map((c) => c.textContent)).toEqual(['just now', '0 B', '0 B', '0 / 0', '0', 'Connecting']);
  });

  it('tells a person where to point a client when nobody is connected', () => {
    const { rerender } = render(<ConnectionsTable running bootstrap="localhost:9300" now={now} connections={[]} />);
    expect(screen.getByText('No clients connected. Point a Kafka client at localhost:9300 to see it here.')).toBeTruthy();
    rerender(<ConnectionsTable running={false} bootstrap={null} now={now} connections={[]} />);
    expect(screen.getByText('No clients: the tunnel is not running.')).toBeTruthy();
  });
});

describe('EventLog', () => {
  const event = (seq: number, overrides: Partial<TunnelEvent> = {}): TunnelEvent => ({
    seq,
    tunnelId: 'a',
    time: Date.UTC(2025, 0, 1, 12, 0, seq),
    level: 'info',
    kind: 'connection-opened',
    message: `Event ${seq}`,
    ...overrides,
  });

  it('shows the newest first, with kind, connection and code, and filters to problems', () => {
    render(
      <EventLog
        events={[
          event(1, { connectionId: 7 }),
          event(2, { level: 'warn', kind: 'legacy-fallback', message: 'Broker ignored ApiVersions' }),
          event(3, { level: 'error', kind: 'connection-closed', message: 'Frame too large', code: 'FRAME_TOO_LARGE' }),
        ]}
      />,
    );
    const items = within(screen.getByRole('list', { name: 'Event log' })).getAllByRole('listitem');
    expect(items.map((i) => i.querySelector('.message')?.textContent)).toEqual(['Frame too largeFRAME_TOO_LARGE', 'Broker ignored ApiVersions', 'Event 1']);
    expect(items[1].querySelector('.kind')?.textContent).toBe('Legacy');
    fireEvent.click(screen.getByRole('checkbox', { name: 'Warnings and errors only' }));
    expect(within(screen.getByRole('list', { name: 'Event log' })).getAllByRole('listitem')).toHaveLength(2);
  });

  it('has an empty state for no events and for no problems', () => {
    const { rerender } = render(<EventLog events={[]} />);
    expect(screen.getByText(/Nothing has happened yet/)).toBeTruthy();
    rerender(<EventLog events={[event(1)]} />);
    fireEvent.click(screen.getByRole('checkbox', { name: 'Warnings and errors only' }));
    expect(screen.getByText('No warnings or errors.')).toBeTruthy();
  });
});

describe('StatCards', () => {
  it('shows live rates and connection counts for a running tunnel', () => {
    const snap = runningSnapshot('a', {
      startedAt: 1_000_000,
      connections: { active: 2, total: 5, failed: 1 },
      toBroker: { bytes: 4096, frames: 10, bytesPerSec: 2048, framesPerSec: 3 },
      toClient: { bytes: 0, frames: 0, bytesPerSec: 0, framesPerSec: 0 },
    });
    render(<StatCards snapshot={snap} now={1_000_000 + 61_000} />);
    expect(screen.getByRole('group', { name: 'State' }).textContent).toBe('StateRunningfor 1m 1s');
    expect(screen.getByRole('group', { name: 'Connections' }).textContent).toBe('Connections2 active5 total · 1 failed');
    expect(screen.getByRole('group', { name: 'Client → broker' }).textContent).toBe('Client → broker2.0 KiB/s3 frames/s · 4.0 KiB total');
  });

  it('shows dashes and the error code, not stale rates, for a failed tunnel', () => {
    const snap = { ...runningSnapshot('a'), state: 'error' as const, error: { code: 'PORT_IN_USE', message: 'Port 9092 is in use' } };
    render(<StatCards snapshot={snap} now={Date.now()} />);
    expect(screen.getByRole('group', { name: 'State' }).textContent).toBe('StateFailedPORT_IN_USE');
    expect(screen.getByRole('group', { name: 'Broker → client' }).textContent).toContain('—');
  });
});
