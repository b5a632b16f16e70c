// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ShimError } from '../../shared/errors.ts';
import { stoppedSnapshot } from '../../shared/stats.ts';
import { App } from './App.tsx';
import type { ThroughputSeries } from './state/throughput-history.ts';
import { apiStats, dashboardApi, makeProfile, runningSnapshot, textFile } from './testing/fake-api.ts';

// jsdom has no canvas and no matchMedia, which uPlot needs; the chart is covered by
// the browser end-to-end test (test/browser/dashboard.test.ts).
vi.mock('./components/ThroughputChart.tsx', () => ({
  ThroughputChart: ({ series }: { series: ThroughputSeries }) => <div data-testid="chart">{series.time.length} samples</div>,
}));

afterEach(cleanup);

describe('App', () => {
  it('welcomes a person with no profiles and opens the editor from there', async () => {
    render(<App api={dashboardApi([])} />);
    expect(await screen.findByRole('heading', { name: 'No tunnels yet' })).toBeTruthy();
    expect(screen.getByText('No profiles yet.')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Create a profile' }));
    expect(screen.getByRole('heading', { name: 'New profile' })).toBeTruthy();
  });

  it('starts a tunnel from the sidebar switch and shows the pushed numbers', async () => {
    const alpha = makeProfile();
    const api = dashboardApi([alpha], [stoppedSnapshot('alpha')]).handle('tunnels:start', () => runningSnapshot('alpha'));
    render(<App api={api} />);
    const toggle = await screen.findByRole('switch', { name: 'Tunnel Alpha' });
    expect(toggle.getAttribute('aria-checked')).toBe('false');
    expect(screen.getByText('Start the tunnel to see requests per Kafka API.')).toBeTruthy();

    await act(async () => {
      fireEvent.click(toggle);
    });
    expect(api.callsTo('tunnels:start')).toEqual([['alpha']]);
    expect(screen.getByRole('switch', { name: 'Tunnel Alpha' }).getAttribute('aria-checked')).toBe('true');

    act(() => {
      api.push('push:stats', [
        runningSnapshot('alpha', {
          connections: { active: 1, total: 3, failed: 0 },
          toBroker: { bytes: 10_000, frames: 20, bytesPerSec: 1536, framesPerSec: 4 },
          apis: [apiStats({ apiKey: 0, name: 'Produce', requests: 7, responses: 7, latencyMs: { p50: 3, p95: 4, p99: 5, max: 5 } })],
          connectionList: [
            { id: 4, clientAddress: '127.0.0.1:61000', since: Date.now(), state: 'open', toBroker: { bytes: 10_000, frames: 20 }, toClient: { bytes: 900, frames: 19 }, inFlight: 0, apis: [] },
          ],
        }),
      ]);
    });
    expect(screen.getByRole('group', { name: 'Connections' }).textContent).toContain('1 active');
    expect(screen.getByRole('group', { name: 'Client → broker' }).textContent).toContain('1.5 KiB/s');
    const produce = within(screen.getByRole('table', { name: 'Requests per Kafka API' })).getByRole('rowheader', { name: 'Produce' });
    expect(produce.parentElement?.textContent).toContain('7');
    expect(screen.getByRole('table', { name: 'Client connections' }).textContent).toContain('127.0.0.1:61000');
    expect(screen.getByTestId('chart').textContent).toBe('1 samples');
  });

  it('says why a tunnel did not start', async () => {
    const api = dashboardApi([makeProfile()]).handle('tunnels:start', () => {
      throw new ShimError('PORT_IN_USE', 'Port 9092 on 127.0.0.1 is already in use by another program; choose another port or stop that program');
    });
    render(<App api={api} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Start' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/already in use by another program/);
    expect(screen.getByRole('switch', { name: 'Tunnel Alpha' }).getAttribute('aria-checked')).toBe('false');
  });

  it('moves through profiles with the arrow keys', async () => {
    render(<App api={dashboardApi([makeProfile(), makeProfile({ id: 'bravo', name: 'Bravo', listenPort: 9093 })])} />);
    const first = await screen.findByRole('button', { name: /Alpha/ });
    expect(screen.getByRole('heading', { level: 1 }).textContent).toContain('Alpha');
    fireEvent.keyDown(first, { key: 'ArrowDown' });
    expect(screen.getByRole('heading', { level: 1 }).textContent).toContain('Bravo');
    expect(document.activeElement?.textContent).toContain('Bravo');
  });

  it('shows a designed error when the host does not answer, and retries', async () => {
    let fail = true;
    const api = dashboardApi([makeProfile()]).handle('profiles:list', () => {
      if (fail) throw new ShimError('INTERNAL', 'The profile store could not be read.');
      return [makeProfile()];
    });
    render(<App api={api} />);
    expect(await screen.findByText('The profile store could not be read.')).toBeTruthy();
    fail = false;
    fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('switch', { name: 'Tunnel Alpha' })).toBeTruthy();
  });

  it('seeds the chart from the host when a tunnel is shown, then appends live pushes', async () => {
    const now = Date.now();
    const sample = (ago: number) => ({ time: now - ago, toBrokerBytesPerSec: 100, toClientBytesPerSec: 50, toBrokerFramesPerSec: 1, toClientFramesPerSec: 1 });
    const api = dashboardApi([makeProfile(), makeProfile({ id: 'bravo', name: 'Bravo', listenPort: 9093 })], [runningSnapshot('alpha')]).handle(
      'tunnels:history',
      (id) => (id === 'alpha' ? [sample(3000), sample(2000), sample(1000)] : [sample(1000)]),
    );
    render(<App api={api} />);
    await waitFor(() => expect(screen.getByTestId('chart').textContent).toBe('3 samples'));
    expect(api.callsTo('tunnels:history')).toEqual([['alpha']]);
    act(() => {
      api.push('push:stats', [runningSnapshot('alpha')]);
    });
    expect(screen.getByTestId('chart').textContent).toBe('4 samples');

    fireEvent.click(screen.getByRole('button', { name: /Bravo/ }));
    await waitFor(() => expect(screen.getByTestId('chart').textContent).toBe('1 samples'));
    expect(api.callsTo('tunnels:history')).toEqual([['alpha'], ['bravo']]);
  });

  it('imports profiles from the sidebar and lists them at once', async () => {
    const api = dashboardApi([makeProfile()]).handle('profiles:import', () => ({ imported: 1, renamed: [{ from: 'alpha', to: 'alpha-2' }] }));
    render(<App api={api} />);
    await screen.findByRole('switch', { name: 'Tunnel Alpha' });
    api.handle('profiles:list', () => [makeProfile(), makeProfile({ id: 'alpha-2', name: 'Alpha copy', listenPort: 9093 })]);
    await act(async () => {
      fireEvent.change(screen.getByTestId('import-file'), { target: { files: [textFile('profiles.json', '{"profiles":[]}')] } });
    });
    const sidebar = screen.getByRole('navigation', { name: 'Tunnels' });
    expect((await within(sidebar).findByRole('status')).textContent).toContain('Imported 1 profile (1 renamed: alpha -> alpha-2)');
    expect(api.callsTo('profiles:import')).toEqual([['{"profiles":[]}']]);
    expect(screen.getByRole('switch', { name: 'Tunnel Alpha copy' })).toBeTruthy();
  });

  it('logs pushed events under the tunnel they belong to', async () => {
    const api = dashboardApi([makeProfile()]);
    render(<App api={api} />);
    await screen.findByRole('switch', { name: 'Tunnel Alpha' });
    act(() => {
      api.push('push:event', { seq: 5, tunnelId: 'alpha', time: Date.now(), level: 'info', kind: 'connection-opened', message: 'Client 127.0.0.1:6000 connected' });
      api.push('push:event', { seq: 6, tunnelId: 'other', time: Date.now(), level: 'info', kind: 'connection-opened', message: 'Not this one' });
    });
    const log = screen.getByRole('list', { name: 'Event log' });
    expect(log.textContent).toContain('Client 127.0.0.1:6000 connected');
    expect(log.textContent).not.toContain('Not this one');
  });
});
