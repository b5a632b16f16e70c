import { describe, expect, it } from 'vitest';
import { KafkaDecodeError } from './errors.ts';
import { decodeDescribeClusterRequest, encodeDescribeClusterRequest } from './describe-cluster-request.ts';
import {
  decodeDescribeClusterResponse,
  encodeDescribeClusterResponse,
  type DescribeClusterResponse,
} from './describe-cluster-response.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';

// KafkaJS has no DescribeCluster; these tests rely on round trips and hand-built bytes.

function sample(): DescribeClusterResponse {
  return {
    throttleTimeMs: 1,
    errorCode: 0,
    errorMessage: null,
    endpointType: 2,
    clusterId: 'cid',
    controllerId: 3,
    brokers: [
      { brokerId: 1, host: 'h1', port: 9092, rack: null, taggedFields: [] },
      { brokerId: 3, host: 'h3', port: 9093, rack: 'east', taggedFields: [{ tag: 2, data: Buffer.from([4, 4]) }] },
    ],
    clusterAuthorizedOperations: 12,
    taggedFields: [],
  };
}

describe('DescribeCluster response', () => {
  it.each([0, 1])('round-trips v%i', (version) => {
    const bytes = encodeDescribeClusterResponse(version, sample(), new Writer()).toBuffer();
    const r = new Reader(bytes);
    expect(decodeDescribeClusterResponse(version, r)).toEqual({ ...sample(), endpointType: version >= 1 ? 2 : 1 });
    expect(r.remaining).toBe(0);
  });

  it('carries a top-level error code and message', () => {
    const data = { ...sample(), errorCode: 41, errorMessage: 'Not the controller', brokers: [] };
    const decoded = decodeDescribeClusterResponse(0, new Reader(encodeDescribeClusterResponse(0, data, new Writer()).toBuffer()));
    expect(decoded.errorCode).toBe(41);
    expect(decoded.errorMessage).toBe('Not the controller');
  });

  it('matches hand-written v0 bytes', () => {
    const bytes = new Writer()
      .writeInt32(0)
      .writeInt16(0)
      .writeCompactNullableString(null)
      .writeCompactString('c')
      .writeInt32(1)
      .writeUnsignedVarint(2) // one broker
      .writeInt32(1)
      .writeCompactString('h')
      .writeInt32(9)
      .writeCompactNullableString(null)
      .writeTaggedFields()
      .writeInt32(-2147483648)
      .writeTaggedFields()
      .toBuffer();
    const decoded = decodeDescribeClusterResponse(0, new Reader(bytes));
    expect(decoded.brokers).toEqual([{ brokerId: 1, host: 'h', port: 9, rack: null, taggedFields: [] }]);
    expect(encodeDescribeClusterResponse(0, decoded, new Writer()).toBuffer()).toEqual(bytes);
  });

  it('reports truncated input with a coded error at every cut', () => {
    const bytes = encodeDescribeClusterResponse(1, sample(), new Writer()).toBuffer();
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(() => decodeDescribeClusterResponse(1, new Reader(bytes.subarray(0, cut)))).toThrow(KafkaDecodeError);
    }
  });
});

describe('DescribeCluster request', () => {
  it.each([0, 1])('round-trips v%i', (version) => {
    const data = { includeClusterAuthorizedOperations: true, endpointType: version >= 1 ? 2 : 1, taggedFields: [] };
    const r = new Reader(encodeDescribeClusterRequest(version, data, new Writer()).toBuffer());
    expect(decodeDescribeClusterRequest(version, r)).toEqual(data);
    expect(r.remaining).toBe(0);
  });
});
