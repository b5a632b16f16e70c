import { parseArgs } from 'node:util';
import { ShimError } from '../../shared/errors.ts';
import { formatHostPort, parseHostPort } from '../../shared/profile.ts';
import { startDemoBroker, type DemoBrokerOptions } from './broker.ts';
import type { TopicSpec } from './store.ts';

/**
 * `kafka-websocket-proxy demo-broker ...`: runs the demo broker on its own, for
 * trying a tunnel (or the original Go proxy) without a real kafka-worker.
 */

export const DEMO_BROKER_USAGE = `Usage: kafka-websocket-proxy demo-broker [options]

Runs an in-memory Kafka 0.8 broker reachable over WebSocket, like kafka-worker:
it answers Produce, Fetch, ListOffsets and Metadata v0 and ignores everything else.

Options:
  --port N                    port to listen on (default 0: any free port)
  --listen HOST               address to listen on (default 127.0.0.1)
  --advertise HOST:PORT       address Metadata tells clients to use; set it to
                              your tunnel's address, e.g. localhost:9092
                              (default: the broker's own address)
  --topics NAME:N,...         topics and partition counts (default test-topic:1,events:3)
  --help                      show this help
`;

export interface DemoBrokerIo {
  out?: (line: string) => void;
  /** Stops the broker when aborted; SIGINT and SIGTERM also stop it. */
  signal?: AbortSignal;
}

/** Parses the demo-broker arguments; throws INVALID_ARGUMENT with a sentence a person can act on. */
export function parseDemoBrokerArgs(argv: string[]): DemoBrokerOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        listen: { type: 'string' },
        advertise: { type: 'string' },
        topics: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new ShimError('INVALID_ARGUMENT', `${(err as Error).message}. Run with --help to see the options.`);
  }
  if (values.help) return 'help';
  const options: DemoBrokerOptions = {};
  if (values.port !== undefined) options.port = parsePort(values.port);
  if (values.listen !== undefined) {
    if (values.listen.trim() === '') throw new ShimError('INVALID_ARGUMENT', '--listen needs an address, for example 127.0.0.1');
    options.host = values.listen.trim();
  }
  if (values.advertise !== undefined) {
    const advertise = parseHostPort(values.advertise);
    if (!advertise || advertise.port === 0) {
      throw new ShimError('INVALID_ARGUMENT', `--advertise must be HOST:PORT, for example localhost:9092, not "${values.advertise}"`);
    }
    options.advertise = advertise;
  }
  if (values.topics !== undefined) options.topics = parseTopics(values.topics);
  return options;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new ShimError('INVALID_ARGUMENT', `--port must be a number from 0 to 65535, not "${text}"`);
  return port;
}

function parseTopics(text: string): TopicSpec[] {
  return text.split(',').map((item) => {
    const m = /^\s*([^:\s]+)\s*:\s*(\d+)\s*$/.exec(item);
    if (!m) throw new ShimError('INVALID_ARGUMENT', `--topics takes NAME:PARTITIONS pairs separated by commas, such as orders:3; "${item}" is not one`);
    return { name: m[1], partitions: Number(m[2]) };
  });
}

/** Runs until SIGINT, SIGTERM or `io.signal`; resolves once the port is free. */
export async function demoBrokerMain(argv: string[], io: DemoBrokerIo = {}): Promise<void> {
  const out = io.out ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const options = parseDemoBrokerArgs(argv);
  if (options === 'help') {
    out(DEMO_BROKER_USAGE.trimEnd());
    return;
  }
  const broker = await startDemoBroker(options);
  const topics = broker.topics().map((t) => `${t.name} (${t.partitions.length} partition${t.partitions.length === 1 ? '' : 's'})`);
  out(`Demo broker listening on ${broker.url}`);
  out(`Advertising ${formatHostPort(broker.advertise)} to clients; topics: ${topics.join(', ')}`);
  out('Press Ctrl+C to stop.');

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      io.signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (io.signal?.aborted) stop();
    else io.signal?.addEventListener('abort', stop);
  });
  await broker.close();
  out('Demo broker stopped.');
}
