import { describe, expect, it } from 'vitest';
import { ErrorCode } from './api-keys.ts';
import { KafkaDecodeError } from './errors.ts';
import {
  decodeFindCoordinatorRequest,
  encodeFindCoordinatorRequest,
  FIND_COORDINATOR_REQUEST_MAX_VERSION,
} from './find-coordinator-request.ts';
import {
  decodeFindCoordinatorResponse,
  encodeFindCoordinatorResponse,
  FIND_COORDINATOR_RESPONSE_MAX_VERSION,
  findCoordinatorErrorCode,
  type FindCoordinatorResponse,
} from './find-coordinator-response.ts';
import { decodeRequestHeader, frameReader } from './headers.ts';
import { kafkaJsDecode, kafkaJsParse, kafkaJsRequestFrame } from './kafkajs-oracle.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';

const VERSIONS = Array.from({ length: FIND_COORDINATOR_RESPONSE_MAX_VERSION + 1 }, (_, v) => v);

function single(errorCode = 0): FindCoordinatorResponse {
  return {
    throttleTimeMs: 3,
    coordinators: [{ key: '', nodeId: 4, host: 'coord.example', port: 9094, errorCode, errorMessage: errorCode ? 'not yet' : null, taggedFields: [] }],
    taggedFields: [],
  };
}

function batch(): FindCoordinatorResponse {
  return {
    throttleTimeMs: 3,
    coordinators: [
      { key: 'g1', nodeId: 1, host: 'a', port: 1, errorCode: 0, errorMessage: null, taggedFields: [{ tag: 0, data: Buffer.from([1]) }] },
      { key: 'g2', nodeId: -1, host: '', port: -1, errorCode: ErrorCode.LeaderNotAvailable, errorMessage: 'wait', taggedFields: [] },
    ],
    taggedFields: [{ tag: 7, data: Buffer.alloc(0) }],
  };
}

/** What a version keeps of `data`. */
function expected(version: number, data: FindCoordinatorResponse): FindCoordinatorResponse {
  return {
    throttleTimeMs: version >= 1 ? data.throttleTimeMs : 0,
    coordinators: data.coordinators.map((c) => ({ ...c, errorMessage: version >= 1 ? c.errorMessage : null })),
    taggedFields: version >= 3 ? data.taggedFields : [],
  };
}

function encode(version: number, data: FindCoordinatorResponse): Buffer {
  return encodeFindCoordinatorResponse(version, data, new Writer()).toBuffer();
}

describe('FindCoordinator response', () => {
  it.each(VERSIONS)('round-trips v%i', (version) => {
    const data = version >= 4 ? batch() : single(ErrorCode.LeaderNotAvailable);
    const r = new Reader(encode(version, data));
    expect(decodeFindCoordinatorResponse(version, r)).toEqual(expected(version, data));
    expect(r.remaining).toBe(0);
  });

  it('reports the first coordinator error', () => {
    expect(findCoordinatorErrorCode(batch())).toBe(ErrorCode.LeaderNotAvailable);
    expect(findCoordinatorErrorCode(single())).toBe(0);
  });

  it('refuses to squeeze several coordinators into a single-answer version', () => {
    expect(() => encode(3, batch())).toThrow(RangeError);
  });

  it.each([0, 1, 2])('is decoded by KafkaJS v%i to the same values', async (version) => {
    const kjs = await kafkaJsParse('findCoordinator', version, encode(version, single()));
    expect(kjs.coordinator).toEqual({ nodeId: 4, host: 'coord.example', port: 9094 });
    expect(kjs.errorCode).toBe(0);
    await expect(kafkaJsParse('findCoordinator', version, encode(version, single(ErrorCode.LeaderNotAvailable)))).rejects.toMatchObject({
      type: 'LEADER_NOT_AVAILABLE',
    });
    if (version >= 1) {
      const raw = await kafkaJsDecode('findCoordinator', version, encode(version, single(ErrorCode.LeaderNotAvailable)));
      expect(raw.errorMessage).toBe('not yet');
    }
  });

  it.each([0, 3, 6])('reports truncated v%i input with a coded error at every cut', (version) => {
    const bytes = encode(version, version >= 4 ? batch() : single());
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(() => decodeFindCoordinatorResponse(version, new Reader(bytes.subarray(0, cut)))).toThrow(KafkaDecodeError);
    }
  });
});

describe('FindCoordinator request', () => {
  it.each(Array.from({ length: FIND_COORDINATOR_REQUEST_MAX_VERSION + 1 }, (_, v) => v))('round-trips v%i', (version) => {
    const data = { keyType: version >= 1 ? 1 : 0, keys: version >= 4 ? ['t1', 't2'] : ['group-a'], taggedFields: [] };
    const r = new Reader(encodeFindCoordinatorRequest(version, data, new Writer()).toBuffer());
    expect(decodeFindCoordinatorRequest(version, r)).toEqual(data);
    expect(r.remaining).toBe(0);
  });

  it.each([0, 1, 2])('reads the v%i requests KafkaJS writes', async (version) => {
    const frame = await kafkaJsRequestFrame('findCoordinator', version, { groupId: 'grp', coordinatorKey: 'grp', coordinatorType: 1 }, {
      correlationId: 8,
      clientId: 'kjs',
    });
    const r = frameReader(frame);
    expect(decodeRequestHeader(r).apiKey).toBe(10);
    const decoded = decodeFindCoordinatorRequest(version, r);
    expect(r.remaining).toBe(0);
    expect(decoded.keys).toEqual(['grp']);
    if (version >= 1) expect(decoded.keyType).toBe(1);
  });
});
