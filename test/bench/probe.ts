import { decodeMetadataResponse } from '../../proxy/kafka/metadata-response.ts';
import { Reader } from '../../proxy/kafka/reader.ts';
import { FrameScanner, PROBE_BROKER, metadataRequest } from './frames.ts';
import { connectTo } from './load.ts';

/**
 * Tells whether a tunnel runs the Kafka-aware session, from the outside: the
 * responder names PROBE_BROKER in its Metadata answer, and a session rewrites
 * that address to the tunnel's own, while plain forwarding leaves it alone.
 */

const PROBE_TIMEOUT_MS = 10_000;

export async function probeSession(port: number): Promise<'on' | 'off'> {
  const socket = await connectTo(port);
  try {
    const answer = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`No Metadata answer through port ${port} within 10 s`)), PROBE_TIMEOUT_MS);
      const chunks: Buffer[] = [];
      const scanner = new FrameScanner({ maxFrameBytes: 1024 * 1024 });
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        scanner.push(chunk, (_head, size) => {
          clearTimeout(timer);
          resolve(Buffer.concat(chunks).subarray(0, size));
        });
      });
      socket.once('close', () => reject(new Error(`The connection through port ${port} closed before the Metadata answer`)));
      const request = Buffer.from(metadataRequest().frame);
      request.writeInt32BE(1, 8);
      socket.write(request);
    });
    // Skip the size prefix and the v0 response header (the correlation id).
    const metadata = decodeMetadataResponse(0, new Reader(answer, 8));
    const broker = metadata.brokers[0];
    return broker && broker.host === PROBE_BROKER.host && broker.port === PROBE_BROKER.port ? 'off' : 'on';
  } finally {
    socket.destroy();
  }
}
