import { describe, expect, it } from 'vitest';
import { ApiKey } from './api-keys.ts';
import { KafkaDecodeError } from './errors.ts';
import {
  decodeRequestHeader,
  decodeResponseHeader,
  encodeRequestHeader,
  encodeResponseHeader,
  frameReader,
  isFlexible,
  peekCorrelationId,
  peekRequestHeader,
  requestHeaderVersion,
  responseHeaderVersion,
} from './headers.ts';
import { kafkaJsRequestFrame } from './kafkajs-oracle.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';

describe('request header', () => {
  it('round-trips v0, v1 and v2', () => {
    const base = { apiKey: ApiKey.Metadata, apiVersion: 9, correlationId: 77 };
    const cases = [
      { version: 0 as const, header: base },
      { version: 1 as const, header: { ...base, clientId: 'kcat' } },
      { version: 1 as const, header: { ...base, clientId: null } },
      { version: 2 as const, header: { ...base, clientId: 'rdkafka', taggedFields: [{ tag: 3, data: Buffer.from([1, 2]) }] } },
    ];
    for (const { version, header } of cases) {
      const bytes = encodeRequestHeader(header, new Writer(), version).toBuffer();
      const r = new Reader(bytes);
      expect(decodeRequestHeader(r, version)).toEqual(header);
      expect(r.remaining).toBe(0);
    }
  });

  it('picks the header version from the API when not told', () => {
    // Metadata v9 is flexible, so its header carries tagged fields after a classic client id.
    const bytes = new Writer().writeInt16(3).writeInt16(9).writeInt32(5).writeNullableString('c').writeTaggedFields([]).toBuffer();
    const r = new Reader(bytes);
    expect(decodeRequestHeader(r)).toEqual({ apiKey: 3, apiVersion: 9, correlationId: 5, clientId: 'c', taggedFields: [] });
    expect(r.remaining).toBe(0);
  });

  it('reads what KafkaJS writes', async () => {
    const frame = await kafkaJsRequestFrame('metadata', 4, { topics: ['a'], allowAutoTopicCreation: false }, {
      correlationId: 1234,
      clientId: 'oracle',
    });
    expect(peekRequestHeader(frame)).toEqual({ apiKey: ApiKey.Metadata, apiVersion: 4, correlationId: 1234 });
    const header = decodeRequestHeader(frameReader(frame));
    expect(header).toEqual({ apiKey: ApiKey.Metadata, apiVersion: 4, correlationId: 1234, clientId: 'oracle' });
  });

  it('reports truncation with a coded error', () => {
    const bytes = encodeRequestHeader({ apiKey: 0, apiVersion: 0, correlationId: 1, clientId: 'abcdef' }, new Writer(), 1).toBuffer();
    const short = new Reader(bytes.subarray(0, bytes.length - 2));
    expect(() => decodeRequestHeader(short, 1)).toThrow(KafkaDecodeError);
  });
});

describe('peeks', () => {
  it('read key, version and correlation id from a whole frame, or null when too short', () => {
    const frame = new Writer().writeInt16(18).writeInt16(3).writeInt32(-9).toFrame();
    expect(peekRequestHeader(frame)).toEqual({ apiKey: 18, apiVersion: 3, correlationId: -9 });
    expect(peekRequestHeader(frame.subarray(0, 11))).toBeNull();
    expect(peekCorrelationId(new Writer().writeInt32(42).toFrame())).toBe(42);
    expect(peekCorrelationId(Buffer.from([0, 0, 0, 1, 0]))).toBeNull();
  });
});

describe('response header', () => {
  it('round-trips v0 and v1', () => {
    const v0 = encodeResponseHeader({ correlationId: 9 }, new Writer(), 0).toBuffer();
    expect(v0.length).toBe(4);
    expect(decodeResponseHeader(new Reader(v0), 0)).toEqual({ correlationId: 9 });
    const tags = [{ tag: 0, data: Buffer.from('x') }];
    const v1 = encodeResponseHeader({ correlationId: 10, taggedFields: tags }, new Writer(), 1).toBuffer();
    expect(decodeResponseHeader(new Reader(v1), 1)).toEqual({ correlationId: 10, taggedFields: tags });
  });
});

describe('header versions', () => {
  it('follow the flexible versions of each API', () => {
    expect(isFlexible(ApiKey.Metadata, 8)).toBe(false);
    expect(isFlexible(ApiKey.Metadata, 9)).toBe(true);
    expect(isFlexible(ApiKey.SaslHandshake, 1)).toBe(false);
    expect(isFlexible(999, 0)).toBeUndefined();
    expect(requestHeaderVersion(ApiKey.Produce, 0)).toBe(1);
    expect(requestHeaderVersion(ApiKey.FindCoordinator, 3)).toBe(2);
    expect(requestHeaderVersion(ApiKey.DescribeCluster, 0)).toBe(2);
    expect(requestHeaderVersion(ApiKey.ControlledShutdown, 0)).toBe(0);
    expect(responseHeaderVersion(ApiKey.Fetch, 11)).toBe(0);
    expect(responseHeaderVersion(ApiKey.Fetch, 12)).toBe(1);
    expect(responseHeaderVersion(ApiKey.DescribeCluster, 0)).toBe(1);
    expect(responseHeaderVersion(999, 0)).toBeUndefined();
  });

  it('keep ApiVersions responses on header v0 even when flexible', () => {
    expect(requestHeaderVersion(ApiKey.ApiVersions, 3)).toBe(2);
    expect(responseHeaderVersion(ApiKey.ApiVersions, 3)).toBe(0);
    expect(responseHeaderVersion(ApiKey.ApiVersions, 4)).toBe(0);
  });
});

describe('frameReader', () => {
  it('checks the size prefix against the frame', () => {
    const frame = new Writer().writeInt32(1).toFrame();
    expect(frameReader(frame).readInt32()).toBe(1);
    expect(() => frameReader(frame.subarray(0, 6))).toThrow(expect.objectContaining({ code: 'KAFKA_MALFORMED' }));
    expect(() => frameReader(Buffer.from([0, 0]))).toThrow(expect.objectContaining({ code: 'KAFKA_TRUNCATED' }));
  });
});
