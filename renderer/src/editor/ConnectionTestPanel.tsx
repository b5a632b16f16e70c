import type { ConnectionTestResult } from '../../../shared/api.ts';

/** What "Test connection" found: handshake time, brokers and topics, or where it stopped. */

const STAGE_LABELS: Record<NonNullable<ConnectionTestResult['failure']>['stage'], string> = {
  config: 'Configuration',
  dns: 'DNS lookup failed',
  tcp: 'Could not connect',
  tls: 'TLS handshake failed',
  http: 'The server refused the WebSocket upgrade',
  timeout: 'Timed out',
  protocol: 'Kafka protocol problem',
};

export type TestState =
  | { phase: 'idle' }
  | { phase: 'running' }
  | { phase: 'done'; result: ConnectionTestResult }
  | { phase: 'error'; message: string };

export function ConnectionTestPanel({ state }: { state: TestState }) {
  if (state.phase === 'idle') return null;
  if (state.phase === 'running') {
    return (
      <div className="test-result" role="status">
        <span className="spinner" aria-hidden="true" /> Testing the connection…
      </div>
    );
  }
  if (state.phase === 'error') {
    return (
      <div className="test-result test-bad" role="alert">
        <strong>The test could not run.</strong> {state.message}
      </div>
    );
  }
  const r = state.result;
  if (!r.ok || r.failure) {
    const f = r.failure;
    return (
      <div className="test-result test-bad" role="alert" data-testid="test-result">
        <strong>{f ? STAGE_LABELS[f.stage] : 'The test failed'}</strong>
        {f?.httpStatus !== undefined && <span className="tag num">HTTP {f.httpStatus}</span>}
        <p>{f?.message ?? 'The broker did not answer as expected.'}</p>
        <p className="muted mono">{r.url}</p>
      </div>
    );
  }
  return (
    <div className="test-result test-good" role="status" data-testid="test-result">
      <strong>
        Connected{r.handshakeMs !== null && <span className="num"> in {Math.round(r.handshakeMs)} ms</span>}
      </strong>
      <p className="muted mono">{r.url}</p>
      <p>
        {r.apiVersions === null
          ? 'The broker did not answer ApiVersions (a Kafka 0.8-era broker); the tunnel answers it for modern clients.'
          : `The broker supports ${r.apiVersions.length} Kafka APIs.`}
      </p>
      <div className="test-lists">
        <div>
          <h4>Brokers</h4>
          {r.brokers.length === 0 ? (
            <p className="muted">None listed.</p>
          ) : (
            <ul>
              {r.brokers.map((b) => (
                <li key={b.nodeId} className="mono">
                  #{b.nodeId} {b.host}:{b.port}
                </li>
              ))}
            </ul>
          )}
        </div>
        <div>
          <h4>Topics</h4>
          {r.topics.length === 0 ? (
            <p className="muted">No topics yet.</p>
          ) : (
            <ul>
              {r.topics.map((t) => (
                <li key={t.name}>
                  <span className="mono">{t.name}</span> <span className="muted num">{t.partitions === 1 ? '1 partition' : `${t.partitions} partitions`}</span>
                  {t.errorCode !== 0 && <span className="tag bad">error {t.errorCode}</span>}
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
    </div>
  );
}
