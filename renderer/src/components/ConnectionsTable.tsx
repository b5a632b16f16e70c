import { formatBytes } from '../../../shared/format.ts';
import type { ConnectionSnapshot } from '../../../shared/stats.ts';
import { formatAge } from '../format.ts';

const CONNECTION_STATES: Record<ConnectionSnapshot['state'], string> = {
  connecting: 'Connecting',
  open: 'Open',
  closing: 'Closing',
};

export function ConnectionsTable({
  connections,
  running,
  bootstrap,
  now,
}: {
  connections: readonly ConnectionSnapshot[];
  running: boolean;
  bootstrap: string | null;
  now: number;
}) {
  if (connections.length === 0) {
    return (
      <p className="empty-note">
        {running
          ? `No clients connected. Point a Kafka client at ${bootstrap ?? 'the tunnel'} to see it here.`
          : 'No clients: the tunnel is not running.'}
      </p>
    );
  }
  return (
    <div className="table-wrap">
      <table className="data-table" aria-label="Client connections">
        <thead>
          <tr>
            <th scope="col">Client</th>
            <th scope="col" className="n">Since</th>
            <th scope="col" className="n">To broker</th>
            <th scope="col" className="n">To client</th>
            <th scope="col" className="n">Frames</th>
            <th scope="col" className="n">In flight</th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {connections.map((c) => (
            <tr key={c.id}>
              <th scope="row" className="mono">
                {c.clientAddress}
              </th>
              <td className="n num" title={new Date(c.since).toLocaleString()}>
                {formatAge(c.since, now)}
              </td>
              <td className="n num">{formatBytes(c.toBroker.bytes)}</td>
              <td className="n num">{formatBytes(c.toClient.bytes)}</td>
              <td className="n num">
                {c.toBroker.frames} / {c.toClient.frames}
              </td>
              <td className="n num">{c.inFlight}</td>
              <td>
                <span className={`pill conn-${c.state}`}>{CONNECTION_STATES[c.state]}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
