import { describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from './api-keys.ts';
import { decodeApiVersionsRequest, encodeApiVersionsRequest } from './api-versions-request.ts';
import {
  API_VERSIONS_RESPONSE_MAX_VERSION,
  decodeApiVersionsResponse,
  encodeApiVersionsResponse,
  readApiVersionsResponse,
  type ApiVersionsResponse,
} from './api-versions-response.ts';
import { KafkaDecodeError } from './errors.ts';
import { decodeRequestHeader, frameReader } from './headers.ts';
import { kafkaJsDecode, kafkaJsParse, kafkaJsRequestFrame } from './kafkajs-oracle.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';

const VERSIONS = Array.from({ length: API_VERSIONS_RESPONSE_MAX_VERSION + 1 }, (_, v) => v);

function sample(): ApiVersionsResponse {
  return {
    errorCode: 0,
    apiKeys: [
      { apiKey: ApiKey.Produce, minVersion: 0, maxVersion: 11, taggedFields: [] },
      { apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 12, taggedFields: [] },
      { apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 4, taggedFields: [] },
    ],
    throttleTimeMs: 20,
    // Tag 0 (supported features) kept as raw bytes.
    taggedFields: [{ tag: 0, data: Buffer.from([2, 4, 0x61, 0x62, 0x63, 0, 1, 0, 2, 0]) }],
  };
}

function encode(version: number, data: ApiVersionsResponse): Buffer {
  return encodeApiVersionsResponse(version, data, new Writer()).toBuffer();
}

describe('ApiVersions response', () => {
  it.each(VERSIONS)('round-trips v%i', (version) => {
    const r = new Reader(encode(version, sample()));
    expect(decodeApiVersionsResponse(version, r)).toEqual({
      ...sample(),
      throttleTimeMs: version >= 1 ? 20 : 0,
      taggedFields: version >= 3 ? sample().taggedFields : [],
    });
    expect(r.remaining).toBe(0);
  });

  it.each([0, 1, 2])('is decoded by KafkaJS v%i to the same values', async (version) => {
    const kjs = await kafkaJsParse('apiVersions', version, encode(version, sample()));
    expect(kjs.apiVersions).toEqual(sample().apiKeys.map(({ apiKey, minVersion, maxVersion }) => ({ apiKey, minVersion, maxVersion })));
    // From v2 KafkaJS moves the broker's throttle time to clientSideThrottleTime.
    if (version >= 1) expect(version === 2 ? kjs.clientSideThrottleTime : kjs.throttleTime).toBe(20);
  });

  it('writes UNSUPPORTED_VERSION in the v0 layout that KafkaJS recognises', async () => {
    const refusal = encode(0, { errorCode: ErrorCode.UnsupportedVersion, apiKeys: sample().apiKeys });
    await expect(kafkaJsDecode('apiVersions', 2, refusal)).rejects.toMatchObject({ type: 'UNSUPPORTED_VERSION' });
  });

  it.each([1, 2, 3, 4])('reads a v0-layout refusal to a v%i request', (requestVersion) => {
    const refusal = encode(0, { errorCode: ErrorCode.UnsupportedVersion, apiKeys: sample().apiKeys });
    const { version, data } = readApiVersionsResponse(requestVersion, new Reader(refusal));
    expect(version).toBe(0);
    expect(data.errorCode).toBe(ErrorCode.UnsupportedVersion);
    expect(data.apiKeys.map((k) => k.apiKey)).toEqual([0, 3, 18]);
  });

  it.each(VERSIONS)('reads a normal v%i answer in its own layout', (requestVersion) => {
    const { version, data } = readApiVersionsResponse(requestVersion, new Reader(encode(requestVersion, sample())));
    expect(version).toBe(requestVersion);
    expect(data.apiKeys).toHaveLength(3);
  });

  it('reports truncated input with a coded error', () => {
    const bytes = encode(3, sample());
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(() => decodeApiVersionsResponse(3, new Reader(bytes.subarray(0, cut)))).toThrow(KafkaDecodeError);
    }
    expect(() => readApiVersionsResponse(3, new Reader(bytes.subarray(0, 5)))).toThrow(KafkaDecodeError);
  });
});

describe('ApiVersions request', () => {
  it.each(VERSIONS)('round-trips v%i', (version) => {
    const data = version >= 3 ? { clientSoftwareName: 'shim', clientSoftwareVersion: '1.0', taggedFields: [] } : {};
    const bytes = encodeApiVersionsRequest(version, data, new Writer()).toBuffer();
    expect(bytes.length === 0).toBe(version < 3);
    const r = new Reader(bytes);
    expect(decodeApiVersionsRequest(version, r)).toEqual(data);
    expect(r.remaining).toBe(0);
  });

  it.each([0, 1, 2])('reads the v%i requests KafkaJS writes', async (version) => {
    const frame = await kafkaJsRequestFrame('apiVersions', version, {}, { correlationId: 1, clientId: 'kjs' });
    const r = frameReader(frame);
    expect(decodeRequestHeader(r)).toMatchObject({ apiKey: ApiKey.ApiVersions, apiVersion: version, correlationId: 1 });
    expect(decodeApiVersionsRequest(version, r)).toEqual({});
    expect(r.remaining).toBe(0);
  });
});
