import { KafkaDecodeError } from './errors.ts';
import type { Reader, TaggedField } from './reader.ts';
import type { Writer } from './writer.ts';
import { checkFullyRead, checkVersion, readArr, readTags, writeArr, writeTags } from './flexible.ts';

/*
 * ApiVersions response body (api key 18), v0–v4; flexible from v3, yet its
 * response header stays v0 (see headers.ts).
 *
 *   error_code          int16
 *   api_keys            array
 *     api_key           int16
 *     min_version       int16
 *     max_version       int16
 *   throttle_time_ms    int32   v1+
 *   tagged fields       v3+: supported features, finalized features and their
 *                       epoch, ZK migration flag. Kept as raw bytes: we never
 *                       need them, and re-encoding must carry them unchanged.
 *
 * A broker that does not know the requested version answers UNSUPPORTED_VERSION
 * in the v0 layout whatever version was asked, listing its ranges, so that any
 * client can read it; `readApiVersionsResponse` reads either layout.
 */

export const API_VERSIONS_RESPONSE_MAX_VERSION = 4;

export interface ApiVersionEntry {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
  taggedFields?: TaggedField[];
}

export interface ApiVersionsResponse {
  errorCode: number;
  apiKeys: ApiVersionEntry[];
  throttleTimeMs?: number;
  taggedFields?: TaggedField[];
}

export function decodeApiVersionsResponse(version: number, r: Reader): ApiVersionsResponse {
  checkVersion('ApiVersions response', version, API_VERSIONS_RESPONSE_MAX_VERSION);
  const flex = version >= 3;
  const errorCode = r.readInt16();
  const apiKeys = readArr(r, flex, (r2): ApiVersionEntry => {
    const apiKey = r2.readInt16();
    const minVersion = r2.readInt16();
    const maxVersion = r2.readInt16();
    return { apiKey, minVersion, maxVersion, taggedFields: readTags(r2, flex) };
  });
  const throttleTimeMs = version >= 1 ? r.readInt32() : 0;
  return { errorCode, apiKeys, throttleTimeMs, taggedFields: readTags(r, flex) };
}

export function encodeApiVersionsResponse(version: number, data: ApiVersionsResponse, w: Writer): Writer {
  checkVersion('ApiVersions response', version, API_VERSIONS_RESPONSE_MAX_VERSION);
  const flex = version >= 3;
  w.writeInt16(data.errorCode);
  writeArr(w, flex, data.apiKeys, (w2, e) => {
    w2.writeInt16(e.apiKey).writeInt16(e.minVersion).writeInt16(e.maxVersion);
    writeTags(w2, flex, e.taggedFields);
  });
  if (version >= 1) w.writeInt32(data.throttleTimeMs ?? 0);
  writeTags(w, flex, data.taggedFields);
  return w;
}

/**
 * Reads a whole response body to an ApiVersions request of `requestVersion`,
 * returning the layout it actually used. As Kafka's own client does, it tries
 * the requested version first and falls back to v0, the layout a broker uses
 * to refuse a version it does not know (error 35).
 */
export function readApiVersionsResponse(requestVersion: number, r: Reader): { version: number; data: ApiVersionsResponse } {
  const start = r.offset;
  if (requestVersion !== 0) {
    try {
      const data = decodeApiVersionsResponse(requestVersion, r);
      if (r.remaining === 0) return { version: requestVersion, data };
    } catch (err) {
      if (!(err instanceof KafkaDecodeError)) throw err;
    }
    r.offset = start;
  }
  const data = decodeApiVersionsResponse(0, r);
  checkFullyRead(r, 'ApiVersions response');
  return { version: 0, data };
}
