import type { Reader, TaggedField } from './reader.ts';
import type { Writer } from './writer.ts';
import { checkVersion, readArr, readNullableStr, readStr, readTags, writeArr, writeNullableStr, writeStr, writeTags } from './flexible.ts';

/*
 * FindCoordinator response body (api key 10), v0–v6; flexible from v3.
 *
 *   throttle_time_ms   int32             v1+
 *   error_code         int16             v0–v3
 *   error_message      nullable string   v1–v3
 *   node_id            int32             v0–v3
 *   host               string            v0–v3
 *   port               int32             v0–v3
 *   coordinators       array             v4+ (one per requested key)
 *     key              string
 *     node_id          int32
 *     host             string
 *     port             int32
 *     error_code       int16
 *     error_message    nullable string
 *
 * Decoded, a response always has `coordinators`: the single v0–v3 answer becomes
 * a list of one whose `key` is '' (those versions do not echo the key).
 */

export const FIND_COORDINATOR_RESPONSE_MAX_VERSION = 6;

export interface Coordinator {
  key: string;
  nodeId: number;
  host: string;
  port: number;
  errorCode: number;
  errorMessage: string | null;
  taggedFields?: TaggedField[];
}

export interface FindCoordinatorResponse {
  throttleTimeMs?: number;
  coordinators: Coordinator[];
  taggedFields?: TaggedField[];
}

export function decodeFindCoordinatorResponse(version: number, r: Reader): FindCoordinatorResponse {
  checkVersion('FindCoordinator response', version, FIND_COORDINATOR_RESPONSE_MAX_VERSION);
  const flex = version >= 3;
  const throttleTimeMs = version >= 1 ? r.readInt32() : 0;
  if (version <= 3) {
    const errorCode = r.readInt16();
    const errorMessage = version >= 1 ? readNullableStr(r, flex) : null;
    const nodeId = r.readInt32();
    const host = readStr(r, flex);
    const port = r.readInt32();
    const coordinator: Coordinator = { key: '', nodeId, host, port, errorCode, errorMessage, taggedFields: [] };
    return { throttleTimeMs, coordinators: [coordinator], taggedFields: readTags(r, flex) };
  }
  const coordinators = readArr(r, flex, (r2): Coordinator => {
    const key = readStr(r2, flex);
    const nodeId = r2.readInt32();
    const host = readStr(r2, flex);
    const port = r2.readInt32();
    const errorCode = r2.readInt16();
    const errorMessage = readNullableStr(r2, flex);
    return { key, nodeId, host, port, errorCode, errorMessage, taggedFields: readTags(r2, flex) };
  });
  return { throttleTimeMs, coordinators, taggedFields: readTags(r, flex) };
}

export function encodeFindCoordinatorResponse(version: number, data: FindCoordinatorResponse, w: Writer): Writer {
  checkVersion('FindCoordinator response', version, FIND_COORDINATOR_RESPONSE_MAX_VERSION);
  const flex = version >= 3;
  if (version >= 1) w.writeInt32(data.throttleTimeMs ?? 0);
  if (version <= 3) {
    if (data.coordinators.length !== 1) {
      throw new RangeError(`FindCoordinator v${version} carries exactly one coordinator, got ${data.coordinators.length}`);
    }
    const c = data.coordinators[0];
    w.writeInt16(c.errorCode);
    if (version >= 1) writeNullableStr(w, flex, c.errorMessage);
    w.writeInt32(c.nodeId);
    writeStr(w, flex, c.host);
    w.writeInt32(c.port);
  } else {
    writeArr(w, flex, data.coordinators, (w2, c) => {
      writeStr(w2, flex, c.key);
      w2.writeInt32(c.nodeId);
      writeStr(w2, flex, c.host);
      w2.writeInt32(c.port).writeInt16(c.errorCode);
      writeNullableStr(w2, flex, c.errorMessage);
      writeTags(w2, flex, c.taggedFields);
    });
  }
  writeTags(w, flex, data.taggedFields);
  return w;
}

/** The first non-zero coordinator error code, or 0. */
export function findCoordinatorErrorCode(data: FindCoordinatorResponse): number {
  return data.coordinators.find((c) => c.errorCode !== 0)?.errorCode ?? 0;
}
