import { formatBytes } from '../../../shared/format.ts';
import type { ApiStats } from '../../../shared/stats.ts';
import { formatLatency } from '../format.ts';

/**
 * Per-API numbers from the Kafka-aware session. Rows stay in API-key order so
 * they do not jump around as counts change.
 */
export function ApiTable({ apis, running }: { apis: readonly ApiStats[]; running: boolean }) {
  if (apis.length === 0) {
    return (
      <p className="empty-note">
        {running ? 'No Kafka requests yet. They appear here as clients talk through the tunnel.' : 'Start the tunnel to see requests per Kafka API.'}
      </p>
    );
  }
  const rows = [...apis].sort((a, b) => a.apiKey - b.apiKey);
  return (
    <div className="table-wrap">
      <table className="data-table" aria-label="Requests per Kafka API">
        <thead>
          <tr>
            <th scope="col">API</th>
            <th scope="col" className="n">Requests</th>
            <th scope="col" className="n">Errors</th>
            <th scope="col" className="n">p50</th>
            <th scope="col" className="n">p99</th>
            <th scope="col" className="n">Sent</th>
            <th scope="col" className="n">Received</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((api) => {
            const measured = api.responses > 0;
            return (
              <tr key={api.apiKey} data-api={api.name}>
                <th scope="row">
                  {api.name}
                  {api.local > 0 && (
                    <span className="tag" title="Answered by the tunnel itself because the broker does not support it">
                      local
                    </span>
                  )}
                </th>
                <td className="n num">{api.requests}</td>
                <td className={`n num${api.errors > 0 ? ' bad' : ''}`}>{api.errors}</td>
                <td className="n num">{formatLatency(api.latencyMs.p50, measured)}</td>
                <td className="n num">{formatLatency(api.latencyMs.p99, measured)}</td>
                <td className="n num">{formatBytes(api.requestBytes)}</td>
                <td className="n num">{formatBytes(api.responseBytes)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
