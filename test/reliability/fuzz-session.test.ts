import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { CompatibilityMode } from '../../shared/profile.ts';
import type { TunnelEvent } from '../../shared/stats.ts';
import { kafkaAwareTunnelOptions } from '../../proxy/kafka-aware.ts';
import { Tunnel } from '../../proxy/tunnel.ts';
import { FrameReader, connectClient, startTestBroker, testProfile, waitForEvent } from '../support/sockets.ts';
import { ApiKey } from '../../proxy/kafka/api-keys.ts';
import { KafkaDecodeError } from '../../proxy/kafka/errors.ts';
import { checkFullyRead } from '../../proxy/kafka/flexible.ts';
import { decodeResponseHeader, frameReader, responseHeaderVersion } from '../../proxy/kafka/headers.ts';
import { KafkaSession, type SessionEvent } from '../../proxy/kafka/session.ts';
import { requestFrame, responseFrame } from '../../proxy/kafka/test-frames.ts';
import type { Reader } from '../../proxy/kafka/reader.ts';
import { Writer } from '../../proxy/kafka/writer.ts';
import { CODEC_CASES } from './codec-samples.ts';
import { trackAllocations } from './harness.ts';
import { mutation } from './mutations.ts';

/**
 * Issue #8.3 for the Kafka-aware session (proxy/kafka/session.ts): a response
 * the session cannot read must reach the client byte for byte, with a warning,
 * and no traffic at all — however malformed — may make the session throw,
 * close the connection, or write a malformed frame to the client.
 */

const ADVERTISED = { host: '127.0.0.1', port: 19092 };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function harness(compatibility: CompatibilityMode = 'auto') {
  const events: SessionEvent[] = [];
  const sent: Buffer[] = [];
  const closed: { code: string; message: string }[] = [];
  let legacy = false;
  const session = new KafkaSession({
    compatibility,
    advertised: ADVERTISED,
    legacy: { known: () => legacy, mark: () => void (legacy = true) },
    stats: [],
    sendToClient: (f) => void sent.push(f),
    onEvent: (e) => void events.push(e),
    close: (reason) => void closed.push(reason),
  });
  return { session, events, sent, closed };
}

function wellFormed(frame: Buffer): boolean {
  return frame.length >= 4 && frame.readInt32BE(0) === frame.length - 4;
}

/** The responses the session reads in full, with the decoder that reads their body. */
const READ_IN_FULL = [
  { apiKey: ApiKey.Metadata, name: 'Metadata response' },
  { apiKey: ApiKey.FindCoordinator, name: 'FindCoordinator response' },
  { apiKey: ApiKey.DescribeCluster, name: 'DescribeCluster response' },
  { apiKey: ApiKey.ApiVersions, name: 'ApiVersions response, either layout' },
].map(({ apiKey, name }) => ({ apiKey, ...CODEC_CASES.find((c) => c.name === name)! }));

/** Whether our codec reads `frame` (a whole response) completely, as the session would. */
function readable(apiKey: number, version: number, frame: Buffer, decode: (v: number, r: Reader) => unknown): boolean {
  try {
    const r = frameReader(frame);
    decodeResponseHeader(r, responseHeaderVersion(apiKey, version) ?? 0);
    decode(version, r);
    checkFullyRead(r, 'response');
    return true;
  } catch (err) {
    if (!(err instanceof KafkaDecodeError)) throw err;
    return false;
  }
}

describe('Kafka-aware session under malformed responses (issue #8.3)', () => {
  it('property: a Metadata, FindCoordinator, DescribeCluster or ApiVersions response it cannot read passes through untouched, with a warning', () => {
    const input = fc
      .tuple(fc.constantFrom(...READ_IN_FULL), fc.array(mutation, { minLength: 1, maxLength: 3 }))
      .chain(([c, ms]) => fc.constantFrom(...c.versions).map((version) => ({ c, version, body: ms.reduce((b, m) => m(b), c.sample(version)) })));
    let unreadable = 0;
    fc.assert(
      fc.property(input, ({ c, version, body }) => {
        const { session, events, closed } = harness();
        expect(session.clientFrame(requestFrame(c.apiKey, version, 41))).toBe('forward');
        const response = responseFrame(c.apiKey, version, 41, (w) => void w.writeRaw(body));
        const original = Buffer.from(response);
        const outcome = trackAllocations(() => session.brokerFrame(response));
        session.dispose();
        expect(outcome.error).toBeUndefined();
        const out = outcome.result!;
        expect(response.equals(original)).toBe(true);
        expect(closed).toEqual([]);
        if (!readable(c.apiKey, version, response, c.decode)) {
          unreadable++;
          expect(out).toBe(response);
          expect(events).toContainEqual(expect.objectContaining({ level: 'warn', kind: 'parse-warning' }));
        } else {
          expect(out).not.toBeNull();
          expect(wellFormed(out!)).toBe(true);
        }
        expect(outcome.largest).toBeLessThanOrEqual(4 * response.length + 1024);
      }),
      { numRuns: 1500 },
    );
    // The property is only worth something if most mutations really were unreadable.
    expect(unreadable).toBeGreaterThan(500);
  });

  it('an unreadable Metadata response reaches a client through the session byte for byte', () => {
    const { session, events } = harness();
    session.clientFrame(requestFrame(ApiKey.Metadata, 9, 5));
    // A flexible Metadata v9 body that claims 2^31 brokers.
    const response = responseFrame(ApiKey.Metadata, 9, 5, (w) => void w.writeInt32(0).writeRaw(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])));
    expect(session.brokerFrame(response)).toBe(response);
    expect(events).toEqual([expect.objectContaining({ kind: 'parse-warning', message: expect.stringMatching(/Could not read a Metadata v9 response .*passed through unchanged/) })]);
    session.dispose();
  });

  it('through a real Kafka-aware tunnel: a truncated Metadata response reaches the client unchanged, and the tunnel says so', async () => {
    const metadata = CODEC_CASES.find((c) => c.name === 'Metadata response')!;
    // Every broker's address is in the body; cut it short inside the topic list.
    const body = metadata.sample(1);
    const truncated = body.subarray(0, body.length - 7);
    const broker = await startTestBroker({ onMessage: (ws, data) => ws.send(responseFrame(ApiKey.Metadata, 1, data.readInt32BE(8), (w) => void w.writeRaw(truncated))) });
    cleanups.push(() => broker.close());
    const profile = testProfile({ broker: `127.0.0.1:${broker.port}` });
    const { attach, ...options } = kafkaAwareTunnelOptions(profile);
    const tunnel = new Tunnel(profile, options);
    attach?.(tunnel);
    await tunnel.start();
    cleanups.push(() => tunnel.stop());
    const warned = waitForEvent<TunnelEvent>(tunnel, (e) => e.kind === 'parse-warning');
    const socket = await connectClient(tunnel.port);
    cleanups.push(() => void socket.destroy());
    const reader = new FrameReader(socket);
    socket.write(requestFrame(ApiKey.Metadata, 1, 77, (w) => void w.writeInt32(-1)));
    const [frame] = await reader.waitFor(1);
    expect(frame).toEqual(responseFrame(ApiKey.Metadata, 1, 77, (w) => void w.writeRaw(truncated)));
    expect((await warned).message).toMatch(/Could not read a Metadata v1 response .*passed through unchanged/);
    expect(tunnel.snapshot().connections.active).toBe(1);
  });
});

describe('Kafka-aware session under random traffic (issue #8.3)', () => {
  const apiKeys = [ApiKey.Produce, ApiKey.Fetch, ApiKey.ListOffsets, ApiKey.Metadata, ApiKey.FindCoordinator, ApiKey.ApiVersions, ApiKey.DescribeCluster, 9999, -1];

  const request = fc
    .record({
      apiKey: fc.constantFrom(...apiKeys),
      version: fc.integer({ min: -1, max: 15 }),
      correlationId: fc.integer({ min: 0, max: 5 }),
      tail: fc.uint8Array({ maxLength: 64 }),
    })
    .map(({ apiKey, version, correlationId, tail }) => ({
      kind: 'client' as const,
      frame: new Writer().writeInt16(apiKey).writeInt16(version).writeInt32(correlationId).writeRaw(Buffer.from(tail)).toFrame(),
    }));
  const response = fc
    .oneof(
      fc.record({ correlationId: fc.integer({ min: 0, max: 5 }), tail: fc.uint8Array({ maxLength: 120 }) }).map(({ correlationId, tail }) =>
        new Writer().writeInt32(correlationId).writeRaw(Buffer.from(tail)).toFrame(),
      ),
      // Too short to carry a correlation id.
      fc.uint8Array({ maxLength: 3 }).map((b) => new Writer().writeRaw(Buffer.from(b)).toFrame()),
    )
    .map((frame) => ({ kind: 'broker' as const, frame }));

  it('property: in every compatibility mode, any sequence of frames is handled without a throw, and only whole frames go to the client', () => {
    fc.assert(
      fc.property(fc.constantFrom<CompatibilityMode>('auto', 'legacy', 'passthrough'), fc.array(fc.oneof(request, response), { maxLength: 40 }), (mode, steps) => {
        const { session, sent } = harness(mode);
        for (const step of steps) {
          const outcome = trackAllocations(() => (step.kind === 'client' ? session.clientFrame(step.frame) : session.brokerFrame(step.frame)));
          expect(outcome.error).toBeUndefined();
          if (step.kind === 'client') expect(['forward', 'consumed']).toContain(outcome.result);
          else if (outcome.result !== null) {
            expect(Buffer.isBuffer(outcome.result)).toBe(true);
            expect(wellFormed(outcome.result as Buffer)).toBe(true);
          }
          expect(outcome.largest).toBeLessThanOrEqual(4 * step.frame.length + 4096);
          expect(session.inFlight).toBeGreaterThanOrEqual(0);
        }
        for (const f of sent) expect(wellFormed(f)).toBe(true);
        session.dispose();
        expect(session.inFlight).toBe(0);
      }),
      { numRuns: 1000 },
    );
  });
});
