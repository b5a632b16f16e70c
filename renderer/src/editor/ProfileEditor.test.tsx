// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConnectionTestResult } from '../../../shared/api.ts';
import { ShimError } from '../../../shared/errors.ts';
import { profileSchema, type Profile } from '../../../shared/profile.ts';
import { FakeApi, makeProfile } from '../testing/fake-api.ts';
import { emptyForm, formFromProfile } from './form.ts';
import { ProfileEditor } from './ProfileEditor.tsx';

afterEach(cleanup);

function renderEditor(options: { others?: Profile[]; editing?: Profile; api?: FakeApi } = {}) {
  const api = options.api ?? new FakeApi();
  const others = options.others ?? [];
  const onSaved = vi.fn();
  const onCancel = vi.fn();
  render(
    <ProfileEditor
      api={api}
      initial={options.editing ? formFromProfile(options.editing) : emptyForm(others)}
      others={others}
      running={false}
      onSaved={onSaved}
      onCancel={onCancel}
    />,
  );
  return { api, onSaved, onCancel };
}

const type = (label: string, value: string) => fireEvent.change(screen.getByLabelText(label), { target: { value } });

describe('ProfileEditor', () => {
  it('validates a field inline as it is edited, with the shared schema’s message', () => {
    renderEditor();
    // Untouched fields do not shout at a person who has not typed yet.
    expect(screen.queryByText(/Broker must be host:port/)).toBeNull();
    type('Broker address', 'no port here');
    expect(screen.getByText('Broker must be host:port (e.g. broker.example.com:443) or a ws:// or wss:// URL')).toBeTruthy();
    expect(screen.getByLabelText('Broker address').getAttribute('aria-invalid')).toBe('true');
    type('Broker address', 'wss://kafka.example.workers.dev/ws');
    expect(screen.queryByText(/Broker must be host:port/)).toBeNull();
    // A URL decides TLS itself.
    expect((screen.getByLabelText(/Use TLS/) as HTMLInputElement).disabled).toBe(true);
    expect((screen.getByLabelText(/Use TLS/) as HTMLInputElement).checked).toBe(true);
  });

  it('flags a port used by another profile before saving, and refuses to save', async () => {
    const { api } = renderEditor({ others: [makeProfile({ id: 'b', name: 'Bravo', listenPort: 9092 })] });
    expect((screen.getByLabelText('Port') as HTMLInputElement).value).toBe('9093');
    type('Port', '9092');
    expect(screen.getByText('Port 9092 is already used by “Bravo”')).toBeTruthy();
    type('Name', 'Mine');
    type('Broker address', 'mine.example.com:443');
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('One field needs attention.')).toBeTruthy();
    expect(api.callsTo('profiles:save')).toHaveLength(0);
    expect(document.activeElement).toBe(screen.getByLabelText('Port'));
  });

  it('shows every problem on a save attempt and focuses the first', () => {
    const { api } = renderEditor();
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(screen.getByText('Name is required')).toBeTruthy();
    expect(screen.getByText('Broker address is required')).toBeTruthy();
    expect(screen.getByText('2 fields need attention.')).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByLabelText('Name'));
    expect(api.callsTo('profiles:save')).toHaveLength(0);
  });

  it('saves a valid profile as the schema reads it and hands back what the host returned', async () => {
    const api = new FakeApi().handle('profiles:save', (input) => profileSchema.parse(input));
    const { onSaved } = renderEditor({ api });
    type('Name', 'Workers');
    type('Broker address', 'kafka.example.workers.dev:443');
    type('Advertised address', 'localhost:9092');
    fireEvent.click(screen.getByRole('button', { name: 'Add header' }));
    type('Header 1 name', 'Authorization');
    type('Header 1 value', 'Bearer abc');
    fireEvent.click(screen.getByRole('checkbox', { name: 'Secret' }));
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(onSaved).toHaveBeenCalledTimes(1));
    const [sent] = api.callsTo('profiles:save')[0] as [unknown];
    expect(profileSchema.parse(sent)).toMatchObject({
      name: 'Workers',
      broker: 'kafka.example.workers.dev:443',
      tls: true,
      advertise: 'localhost:9092',
      headers: [{ name: 'Authorization', value: 'Bearer abc', secret: true }],
    });
    expect(onSaved.mock.calls[0][0]).toMatchObject({ name: 'Workers' });
  });

  it('shows the host’s refusal as a sentence', async () => {
    const api = new FakeApi().handle('profiles:save', () => {
      throw new ShimError('PORT_CONFLICT', 'Port 9092 is already used by the running tunnel "Other"; stop it first or choose another port');
    });
    const { onSaved } = renderEditor({ api, editing: makeProfile() });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText(/already used by the running tunnel "Other"/)).toBeTruthy();
    expect(onSaved).not.toHaveBeenCalled();
  });

  it('masks a secret header, never shows a stored one, and reveals only on request', () => {
    renderEditor({ editing: makeProfile({ headers: [{ name: 'Authorization', secret: true, valueSet: true }] }) });
    const value = screen.getByLabelText('Header 1 value') as HTMLInputElement;
    expect(value.type).toBe('password');
    expect(value.value).toBe('');
    expect(value.placeholder).toBe('Stored: leave empty to keep it');
    fireEvent.click(screen.getByRole('button', { name: 'Show' }));
    expect(value.type).toBe('text');
    fireEvent.click(screen.getByRole('button', { name: 'Hide' }));
    expect(value.type).toBe('password');
  });

  it('tests the connection and shows handshake time, brokers and topics', async () => {
    const result: ConnectionTestResult = {
      ok: true,
      url: 'wss://alpha.example.com:443/',
      handshakeMs: 41.6,
      failure: null,
      apiVersions: null,
      brokers: [{ nodeId: 0, host: 'alpha.example.com', port: 443 }],
      topics: [{ name: 'orders', partitions: 3, errorCode: 0 }],
    };
    const api = new FakeApi().handle('tunnels:test', () => result);
    renderEditor({ api, editing: makeProfile() });
    fireEvent.click(screen.getByRole('button', { name: 'Test connection' }));
    expect(await screen.findByText('in 42 ms')).toBeTruthy();
    expect(screen.getByText('#0 alpha.example.com:443')).toBeTruthy();
    expect(screen.getByText('orders')).toBeTruthy();
    expect(screen.getByText('3 partitions')).toBeTruthy();
    expect(screen.getByText(/did not answer ApiVersions/)).toBeTruthy();
    expect(profileSchema.parse(api.callsTo('tunnels:test')[0][0])).toMatchObject({ id: 'alpha', broker: 'alpha.example.com:443' });
  });

  it('names the stage a failed test stopped at, with the HTTP status', async () => {
    const api = new FakeApi().handle('tunnels:test', () => ({
      ok: false,
      url: 'wss://alpha.example.com:443/',
      handshakeMs: null,
      failure: { stage: 'http', message: 'The server answered 401 Unauthorized instead of upgrading', httpStatus: 401 },
      apiVersions: null,
      brokers: [],
      topics: [],
    }));
    renderEditor({ api, editing: makeProfile() });
    fireEvent.click(screen.getByRole('button', { name: 'Test connection' }));
    const alert = await screen.findByTestId('test-result');
    expect(alert.textContent).toContain('The server refused the WebSocket upgrade');
    expect(alert.textContent).toContain('HTTP 401');
    expect(alert.textContent).toContain('answered 401 Unauthorized');
  });

  it('does not run a test without a usable broker address', async () => {
    const api = new FakeApi();
    renderEditor({ api });
    fireEvent.click(screen.getByRole('button', { name: 'Test connection' }));
    expect(await screen.findByText('Enter a valid broker address first.')).toBeTruthy();
    expect(api.callsTo('tunnels:test')).toHaveLength(0);
  });
});
