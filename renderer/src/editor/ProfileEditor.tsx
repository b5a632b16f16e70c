import { useMemo, useRef, useState, type FormEvent } from 'react';
import type { KafkaTunnelsApi } from '../../../shared/api.ts';
import { COMPATIBILITY_MODES, isWebSocketUrl, type CompatibilityMode, type Profile } from '../../../shared/profile.ts';
import { ConnectionTestPanel, type TestState } from './ConnectionTestPanel.tsx';
import { Check, Field, fieldId } from './fields.tsx';
import { checkForm, toProfileInput, type ProfileForm } from './form.ts';
import { HeadersField } from './HeadersField.tsx';

/** Creates or edits one broker profile (issue #6, "Profile editor"). */

const COMPATIBILITY_LABELS: Record<CompatibilityMode, string> = {
  auto: 'Automatic: answer ApiVersions only if the broker does not',
  legacy: 'Legacy: always answer ApiVersions for a 0.8-era broker',
  passthrough: 'Pass-through: forward every frame untouched',
};

export interface ProfileEditorProps {
  api: KafkaTunnelsApi;
  initial: ProfileForm;
  /** Every other profile, for the port-conflict check. */
  others: readonly Profile[];
  /** Running tunnels restart when their profile is saved; say so on the button. */
  running: boolean;
  onSaved: (profile: Profile) => void;
  onCancel: () => void;
  onDelete?: () => Promise<void>;
}

export function ProfileEditor({ api, initial, others, running, onSaved, onCancel, onDelete }: ProfileEditorProps) {
  const [form, setForm] = useState(initial);
  const [touched, setTouched] = useState<ReadonlySet<string>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [test, setTest] = useState<TestState>({ phase: 'idle' });
  const [confirmDelete, setConfirmDelete] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  const check = useMemo(() => checkForm(form, others), [form, others]);
  // A clash with another profile is worth knowing before anyone touches the field.
  const shown = (path: string) =>
    submitted || touched.has(path) || (path === 'listenPort' && check.portConflict !== null) ? check.errors[path] : undefined;

  const set = <K extends keyof ProfileForm>(key: K, value: ProfileForm[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    setTouched((t) => new Set(t).add(key));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    setSaveError(null);
    if (!check.input) {
      const first = Object.keys(check.errors)[0];
      formRef.current?.querySelector<HTMLElement>(`#${fieldId(first)}`)?.focus();
      return;
    }
    setSaving(true);
    try {
      onSaved(await api.invoke('profiles:save', check.input));
    } catch (err) {
      setSaveError((err as Error).message);
    } finally {
      setSaving(false);
    }
  };

  const runTest = async () => {
    if (check.errors.broker && !form.demoBroker) {
      setTouched((t) => new Set(t).add('broker'));
      setTest({ phase: 'error', message: 'Enter a valid broker address first.' });
      return;
    }
    setTest({ phase: 'running' });
    try {
      setTest({ phase: 'done', result: await api.invoke('tunnels:test', toProfileInput(form)) });
    } catch (err) {
      setTest({ phase: 'error', message: (err as Error).message });
    }
  };

  const brokerIsUrl = isWebSocketUrl(form.broker.trim());
  const errorCount = Object.keys(check.errors).length;

  return (
    <form className="editor" ref={formRef} onSubmit={(e) => void submit(e)} noValidate aria-label={form.isNew ? 'New profile' : `Edit ${initial.name}`}>
      <header className="pane-header">
        <div>
          <h1>{form.isNew ? 'New profile' : `Edit “${initial.name}”`}</h1>
          <p className="muted">One profile is one tunnel: a local port that leads to a broker over WebSocket.</p>
        </div>
      </header>

      {saveError && (
        <div className="banner banner-error" role="alert">
          {saveError}
        </div>
      )}
      {submitted && errorCount > 0 && (
        <div className="banner banner-error" role="alert">
          {errorCount === 1 ? 'One field needs attention.' : `${errorCount} fields need attention.`}
        </div>
      )}

      <section className="form-section">
        <h2>Broker</h2>
        <Field path="name" label="Name" error={shown('name')}>
          {(p) => <input {...p} value={form.name} onChange={(e) => set('name', e.target.value)} placeholder="Production cluster" autoComplete="off" />}
        </Field>
        <Field
          path="broker"
          label="Broker address"
          error={form.demoBroker ? undefined : shown('broker')}
          hint={form.demoBroker ? 'Ignored: the built-in demo broker is used.' : 'host:port, or a full ws:// or wss:// URL with a path.'}
        >
          {(p) => (
            <input
              {...p}
              value={form.broker}
              onChange={(e) => set('broker', e.target.value)}
              placeholder="kafka.example.workers.dev:443"
              disabled={form.demoBroker}
              spellCheck={false}
              autoComplete="off"
            />
          )}
        </Field>
        <div className="checks">
          <Check label="Use TLS (wss://)" checked={brokerIsUrl ? form.broker.trim().startsWith('wss:') : form.tls} disabled={brokerIsUrl || form.demoBroker} onChange={(v) => set('tls', v)} hint={brokerIsUrl ? 'Set by the URL' : undefined} />
          <Check label="Use the built-in demo broker" checked={form.demoBroker} onChange={(v) => set('demoBroker', v)} />
        </div>
        <HeadersField
          rows={form.headers}
          errors={submitted || touched.has('headers') ? check.errors : {}}
          onChange={(rows) => set('headers', rows)}
        />
      </section>

      <section className="form-section">
        <h2>Local listener</h2>
        <div className="field-row">
          <Field path="listenHost" label="Listen address" error={shown('listenHost')} hint="127.0.0.1 keeps the tunnel private to this computer.">
            {(p) => <input {...p} value={form.listenHost} onChange={(e) => set('listenHost', e.target.value)} spellCheck={false} />}
          </Field>
          <Field path="listenPort" label="Port" error={shown('listenPort')}>
            {(p) => <input {...p} className="port-input num" inputMode="numeric" value={form.listenPort} onChange={(e) => set('listenPort', e.target.value)} />}
          </Field>
        </div>
        <Field path="advertise" label="Advertised address" error={shown('advertise')} hint="What clients are told to reconnect to. Empty: the listen address.">
          {(p) => <input {...p} value={form.advertise} onChange={(e) => set('advertise', e.target.value)} placeholder="localhost:9092" spellCheck={false} />}
        </Field>
      </section>

      <section className="form-section">
        <h2>TLS</h2>
        <Check label="Verify the broker's certificate" checked={form.tlsVerify} onChange={(v) => set('tlsVerify', v)} hint={form.tlsVerify ? undefined : 'Anyone on the path can read and change the traffic.'} />
        <Field path="caFile" label="CA certificate file" error={shown('caFile')} hint="PEM file for a private certificate authority. Empty: the system's trusted roots.">
          {(p) => <input {...p} value={form.caFile} onChange={(e) => set('caFile', e.target.value)} placeholder="/etc/ssl/private-ca.pem" spellCheck={false} />}
        </Field>
      </section>

      <section className="form-section">
        <h2>Behaviour</h2>
        <Field path="compatibility" label="Compatibility mode" error={shown('compatibility')}>
          {(p) => (
            <select {...p} value={form.compatibility} onChange={(e) => set('compatibility', e.target.value as CompatibilityMode)}>
              {COMPATIBILITY_MODES.map((m) => (
                <option key={m} value={m}>
                  {COMPATIBILITY_LABELS[m]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Check
          label="Read Kafka traffic"
          checked={form.kafkaAware}
          onChange={(v) => set('kafkaAware', v)}
          hint={form.kafkaAware ? 'Per-API statistics, address rewriting and answers for 0.8-era brokers.' : 'Frames pass untouched; no per-API statistics.'}
        />
        <Check label="Start this tunnel automatically" checked={form.autoStart} onChange={(v) => set('autoStart', v)} />
        <details className="advanced">
          <summary>Advanced</summary>
          <Field path="httpProxy" label="Outbound HTTP proxy" error={shown('httpProxy')} hint="Empty: HTTPS_PROXY and NO_PROXY from the environment.">
            {(p) => <input {...p} value={form.httpProxy} onChange={(e) => set('httpProxy', e.target.value)} placeholder="http://proxy.internal:3128" spellCheck={false} />}
          </Field>
          <div className="field-row">
            <Field path="connectTimeoutMs" label="Connect timeout (ms)" error={shown('connectTimeoutMs')}>
              {(p) => <input {...p} className="num" inputMode="numeric" value={form.connectTimeoutMs} onChange={(e) => set('connectTimeoutMs', e.target.value)} />}
            </Field>
            <Field path="connectRetries" label="Connect attempts" error={shown('connectRetries')}>
              {(p) => <input {...p} className="num" inputMode="numeric" value={form.connectRetries} onChange={(e) => set('connectRetries', e.target.value)} />}
            </Field>
            <Field path="keepaliveMs" label="Keepalive (ms, 0 = off)" error={shown('keepaliveMs')}>
              {(p) => <input {...p} className="num" inputMode="numeric" value={form.keepaliveMs} onChange={(e) => set('keepaliveMs', e.target.value)} />}
            </Field>
          </div>
        </details>
      </section>

      <ConnectionTestPanel state={test} />

      <footer className="editor-actions">
        <button type="button" className="btn" onClick={() => void runTest()} disabled={test.phase === 'running'}>
          Test connection
        </button>
        <span className="spacer" />
        {onDelete &&
          (confirmDelete ? (
            <span className="confirm">
              Delete this profile{running ? ' and stop its tunnel' : ''}?
              <button type="button" className="btn btn-danger" onClick={() => void onDelete()}>
                Delete
              </button>
              <button type="button" className="btn" onClick={() => setConfirmDelete(false)}>
                Keep
              </button>
            </span>
          ) : (
            <button type="button" className="btn btn-quiet btn-danger-text" onClick={() => setConfirmDelete(true)}>
              Delete…
            </button>
          ))}
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={saving}>
          {saving ? 'Saving…' : running ? 'Save and restart' : 'Save'}
        </button>
      </footer>
    </form>
  );
}
