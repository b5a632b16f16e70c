import { describe, expect, it } from 'vitest';
import { ApiKey } from './api-keys.ts';
import { ApiStatsCollector } from './api-stats.ts';
import { decodeDescribeClusterResponse, encodeDescribeClusterResponse } from './describe-cluster-response.ts';
import { decodeFindCoordinatorResponse, encodeFindCoordinatorResponse } from './find-coordinator-response.ts';
import { decodeResponseHeader, frameReader, responseHeaderVersion } from './headers.ts';
import { kafkaJsDecode } from './kafkajs-oracle.ts';
import { decodeMetadataResponse, encodeMetadataResponse, type MetadataResponse } from './metadata-response.ts';
import type { Reader } from './reader.ts';
import { KafkaSession, type SessionEvent } from './session.ts';
import { requestFrame, responseFrame } from './test-frames.ts';

const ADVERTISED = { host: '127.0.0.1', port: 19092 };
const HEADER_TAGS = [{ tag: 5, data: Buffer.from([1, 2, 3]) }];

function harness(advertised: { host: string; port: number } | null = ADVERTISED) {
  const events: SessionEvent[] = [];
  const stats = new ApiStatsCollector();
  const session = new KafkaSession({
    compatibility: 'auto',
    advertised,
    legacy: { known: () => false, mark: () => {} },
    stats: [stats],
    sendToClient: () => {},
    onEvent: (e) => void events.push(e),
    close: () => {},
  });
  return { session, events, stats };
}

/** Sends a request for (apiKey, version, id), then `response`; returns what the client gets. */
function exchange(session: KafkaSession, apiKey: number, version: number, id: number, response: Buffer): Buffer | null {
  expect(session.clientFrame(requestFrame(apiKey, version, id))).toBe('forward');
  return session.brokerFrame(response);
}

/** Reads a delivered frame back: header (tags checked) then the body. */
function body<T>(frame: Buffer, apiKey: number, version: number, decode: (v: number, r: Reader) => T): T {
  const r = frameReader(frame);
  const headerVersion = responseHeaderVersion(apiKey, version) ?? 0;
  const header = decodeResponseHeader(r, headerVersion);
  if (headerVersion === 1) expect(header.taggedFields).toEqual(HEADER_TAGS);
  const data = decode(version, r);
  expect(r.remaining).toBe(0);
  return data;
}

function metadata(): MetadataResponse {
  return {
    throttleTimeMs: 0,
    brokers: [
      { nodeId: 1, host: 'kafka-worker.example.workers.dev', port: 443, rack: null },
      { nodeId: 2, host: 'other.example', port: 9092, rack: 'r' },
    ],
    clusterId: 'c',
    controllerId: 1,
    topics: [{ errorCode: 0, name: 'orders', partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1] }] }],
  };
}

describe('address rewriting', () => {
  it.each(Array.from({ length: 13 }, (_, v) => v))('rewrites every broker in Metadata v%i', (version) => {
    const h = harness();
    const res = responseFrame(ApiKey.Metadata, version, 1, (w) => encodeMetadataResponse(version, metadata(), w), HEADER_TAGS);
    const out = exchange(h.session, ApiKey.Metadata, version, 1, res) as Buffer;
    const data = body(out, ApiKey.Metadata, version, decodeMetadataResponse);
    expect(data.brokers.map((b) => [b.nodeId, b.host, b.port])).toEqual([
      [1, '127.0.0.1', 19092],
      [2, '127.0.0.1', 19092],
    ]);
    expect(data.topics[0].name).toBe('orders');
    expect(h.events).toEqual([
      expect.objectContaining({ level: 'info', kind: 'rewrite', message: expect.stringContaining('kafka-worker.example.workers.dev:443') }),
    ]);
  });

  it('produces Metadata that KafkaJS reads with the new addresses', async () => {
    const h = harness();
    const res = responseFrame(ApiKey.Metadata, 5, 1, (w) => encodeMetadataResponse(5, metadata(), w));
    const out = exchange(h.session, ApiKey.Metadata, 5, 1, res) as Buffer;
    const kjs = await kafkaJsDecode('metadata', 5, out.subarray(8));
    expect(kjs.brokers).toEqual([
      { nodeId: 1, host: '127.0.0.1', port: 19092, rack: null },
      { nodeId: 2, host: '127.0.0.1', port: 19092, rack: 'r' },
    ]);
  });

  it('emits the rewrite event once per connection', () => {
    const h = harness();
    for (let id = 1; id <= 3; id++) {
      exchange(h.session, ApiKey.Metadata, 0, id, responseFrame(ApiKey.Metadata, 0, id, (w) => encodeMetadataResponse(0, metadata(), w)));
    }
    expect(h.events.filter((e) => e.kind === 'rewrite')).toHaveLength(1);
  });

  it('leaves responses alone when there is no advertised address', () => {
    const h = harness(null);
    const res = responseFrame(ApiKey.Metadata, 0, 1, (w) => encodeMetadataResponse(0, metadata(), w));
    expect(exchange(h.session, ApiKey.Metadata, 0, 1, res)).toBe(res);
    expect(h.events).toEqual([]);
  });

  it.each([0, 1, 2, 3])('rewrites the FindCoordinator v%i coordinator', (version) => {
    const h = harness();
    const res = responseFrame(
      ApiKey.FindCoordinator,
      version,
      4,
      (w) =>
        encodeFindCoordinatorResponse(
          version,
          { coordinators: [{ key: '', nodeId: 1, host: 'broker', port: 9092, errorCode: 0, errorMessage: null }] },
          w,
        ),
      HEADER_TAGS,
    );
    const data = body(exchange(h.session, ApiKey.FindCoordinator, version, 4, res) as Buffer, ApiKey.FindCoordinator, version, decodeFindCoordinatorResponse);
    expect(data.coordinators.map((c) => [c.nodeId, c.host, c.port])).toEqual([[1, '127.0.0.1', 19092]]);
  });

  it.each([4, 5, 6])('rewrites every live FindCoordinator v%i coordinator and leaves failed ones', (version) => {
    const h = harness();
    const res = responseFrame(
      ApiKey.FindCoordinator,
      version,
      4,
      (w) =>
        encodeFindCoordinatorResponse(
          version,
          {
            coordinators: [
              { key: 'a', nodeId: 1, host: 'broker', port: 9092, errorCode: 0, errorMessage: null },
              { key: 'b', nodeId: -1, host: '', port: -1, errorCode: 15, errorMessage: 'Coordinator not available' },
            ],
          },
          w,
        ),
      HEADER_TAGS,
    );
    const data = body(exchange(h.session, ApiKey.FindCoordinator, version, 4, res) as Buffer, ApiKey.FindCoordinator, version, decodeFindCoordinatorResponse);
    expect(data.coordinators.map((c) => [c.key, c.host, c.port, c.errorCode])).toEqual([
      ['a', '127.0.0.1', 19092, 0],
      ['b', '', -1, 15],
    ]);
    expect(h.stats.snapshot()[0]).toMatchObject({ name: 'FindCoordinator', errors: 1 });
  });

  it.each([0, 1])('rewrites every broker in DescribeCluster v%i', (version) => {
    const h = harness();
    const res = responseFrame(
      ApiKey.DescribeCluster,
      version,
      2,
      (w) =>
        encodeDescribeClusterResponse(
          version,
          {
            throttleTimeMs: 0,
            errorCode: 0,
            errorMessage: null,
            clusterId: 'c',
            controllerId: 1,
            brokers: [{ brokerId: 1, host: 'b1', port: 1, rack: null }],
          },
          w,
        ),
      HEADER_TAGS,
    );
    const data = body(exchange(h.session, ApiKey.DescribeCluster, version, 2, res) as Buffer, ApiKey.DescribeCluster, version, decodeDescribeClusterResponse);
    expect(data.brokers.map((b) => [b.host, b.port])).toEqual([['127.0.0.1', 19092]]);
  });

  it('passes a response it cannot parse through unchanged, with one warning per API version', () => {
    const h = harness();
    const good = responseFrame(ApiKey.Metadata, 9, 1, (w) => encodeMetadataResponse(9, metadata(), w));
    // Cut the body short and fix the size prefix so the frame itself is whole.
    const broken = Buffer.from(good.subarray(0, good.length - 6));
    broken.writeInt32BE(broken.length - 4, 0);
    expect(exchange(h.session, ApiKey.Metadata, 9, 1, broken)).toBe(broken);
    const good2 = responseFrame(ApiKey.Metadata, 9, 2, (w) => encodeMetadataResponse(9, metadata(), w));
    const trailing = Buffer.concat([good2, Buffer.from([0])]);
    trailing.writeInt32BE(trailing.length - 4, 0);
    expect(exchange(h.session, ApiKey.Metadata, 9, 2, trailing)).toBe(trailing);
    expect(h.events).toEqual([expect.objectContaining({ level: 'warn', kind: 'parse-warning', message: expect.stringMatching(/^Could not read a Metadata v9 response/) })]);
    expect(h.stats.snapshot()[0]).toMatchObject({ responses: 2 });
  });

  it('passes through a version beyond what it parses (passthrough mode lets one arrive)', () => {
    const h = harness();
    const res = responseFrame(ApiKey.Metadata, 13, 1, (w) => w.writeInt32(0));
    expect(exchange(h.session, ApiKey.Metadata, 13, 1, res)).toBe(res);
    expect(h.events[0]).toMatchObject({ kind: 'parse-warning' });
  });
});
