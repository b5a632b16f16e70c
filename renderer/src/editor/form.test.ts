import { describe, expect, it } from 'vitest';
import { profileSchema, type Profile } from '../../../shared/profile.ts';
import { checkForm, emptyForm, formFromProfile, headerRow, suggestPort, toProfileInput } from './form.ts';

const profile = (overrides: Partial<Profile> = {}): Profile =>
  profileSchema.parse({ id: 'a', name: 'Alpha', broker: 'alpha.example.com:443', listenPort: 9092, ...overrides });

describe('profile form', () => {
  it('accepts a complete new profile and produces what the schema accepts', () => {
    const form = { ...emptyForm([]), name: 'Cluster', broker: 'kafka.example.com:443' };
    const check = checkForm(form, []);
    expect(check.errors).toEqual({});
    expect(profileSchema.parse(check.input)).toMatchObject({ name: 'Cluster', broker: 'kafka.example.com:443', tls: true, listenPort: 9092 });
  });

  it('reports the schema’s own messages against the field that is wrong', () => {
    const form = { ...emptyForm([]), name: '  ', broker: 'not a broker', advertise: 'nohost' };
    const { input, errors } = checkForm(form, []);
    expect(input).toBeNull();
    expect(errors.name).toBe('Name is required');
    expect(errors.broker).toMatch(/host:port/);
    expect(errors.advertise).toBe('Use HOST:PORT, for example localhost:9092');
  });

  it('rejects a port that is not a whole number, or out of range, in a sentence', () => {
    const base = { ...emptyForm([]), name: 'x', broker: 'h:1' };
    expect(checkForm({ ...base, listenPort: '90a' }, []).errors.listenPort).toBe('Port must be a whole number');
    expect(checkForm({ ...base, listenPort: '70000' }, []).errors.listenPort).toBe('Port must be 0–65535');
  });

  it('flags a port another profile uses, naming that profile, before anything is saved', () => {
    const others = [profile({ id: 'b', name: 'Bravo', listenPort: 9100 })];
    const form = { ...emptyForm(others), name: '', broker: '', listenPort: '9100' };
    const check = checkForm(form, others);
    expect(check.portConflict).toBe('Bravo');
    expect(check.errors.listenPort).toBe('Port 9100 is already used by “Bravo”');
    // Different hosts do not clash, unless one listens on every address.
    expect(checkForm({ ...form, listenHost: '127.0.0.2' }, others).portConflict).toBeNull();
    expect(checkForm({ ...form, listenHost: '0.0.0.0' }, others).portConflict).toBe('Bravo');
  });

  it('does not report a profile as clashing with its own saved self', () => {
    const saved = profile();
    expect(checkForm(formFromProfile(saved), [saved]).errors).toEqual({});
  });

  it('suggests the first free port from 9092', () => {
    expect(suggestPort([{ listenPort: 9092 }, { listenPort: 9093 }, { listenPort: 9095 }])).toBe(9094);
    expect(emptyForm([profile()]).listenPort).toBe('9093');
  });

  it('keeps a stored secret when its input is left empty, and demands a value for a new one', () => {
    const saved = profile({ headers: [{ name: 'Authorization', secret: true, valueSet: true }] });
    const form = formFromProfile(saved);
    expect(form.headers[0]).toMatchObject({ name: 'Authorization', value: '', secret: true, valueSet: true });
    expect(toProfileInput(form).headers).toEqual([{ name: 'Authorization', secret: true }]);

    const withNew = { ...form, headers: [...form.headers, headerRow({ name: 'X-Api-Key', secret: true })] };
    expect(checkForm(withNew, []).errors['headers.1.value']).toBe('Enter the secret value');
  });

  it('reports a duplicate or reserved header on its row', () => {
    const form = {
      ...emptyForm([]),
      name: 'x',
      broker: 'h:1',
      headers: [headerRow({ name: 'X-A', value: '1' }), headerRow({ name: 'x-a', value: '2' }), headerRow({ name: 'Upgrade', value: 'no' })],
    };
    const { errors } = checkForm(form, []);
    expect(errors['headers.1.name']).toBe('Header x-a appears twice');
    expect(errors['headers.2.name']).toMatch(/set by the WebSocket handshake/);
  });

  it('round-trips an existing profile without losing settings the form does not show', () => {
    const saved = profile({ legacyApiVersions: [{ apiKey: 0, minVersion: 0, maxVersion: 0 }], retryDelayMs: 750, maxFrameBytes: 4096, kafkaAware: false, tlsVerify: false, autoStart: true });
    const again = profileSchema.parse(toProfileInput(formFromProfile(saved)));
    expect(again).toEqual(saved);
  });
});
