import type { Reader, TaggedField } from './reader.ts';
import type { Writer } from './writer.ts';
import { checkVersion, readArr, readStr, readTags, writeArr, writeStr, writeTags } from './flexible.ts';

/*
 * FindCoordinator request body (api key 10), v0–v6; flexible from v3.
 *
 *   key               string            v0–v3 (one group or transactional id)
 *   key_type          int8              v1+  (0 group, 1 transaction, 2 share)
 *   coordinator_keys  array of string   v4+  (a batch of keys)
 *
 * Decoded, a request always has `keys`: the single v0–v3 key becomes a list of one.
 */

export const FIND_COORDINATOR_REQUEST_MAX_VERSION = 6;

export interface FindCoordinatorRequest {
  keyType?: number;
  keys: string[];
  taggedFields?: TaggedField[];
}

export function decodeFindCoordinatorRequest(version: number, r: Reader): FindCoordinatorRequest {
  checkVersion('FindCoordinator request', version, FIND_COORDINATOR_REQUEST_MAX_VERSION);
  const flex = version >= 3;
  const single = version <= 3 ? readStr(r, flex) : null;
  const keyType = version >= 1 ? r.readInt8() : 0;
  const keys = version >= 4 ? readArr(r, flex, (r2) => readStr(r2, flex)) : [single as string];
  return { keyType, keys, taggedFields: readTags(r, flex) };
}

export function encodeFindCoordinatorRequest(version: number, data: FindCoordinatorRequest, w: Writer): Writer {
  checkVersion('FindCoordinator request', version, FIND_COORDINATOR_REQUEST_MAX_VERSION);
  const flex = version >= 3;
  if (version <= 3) {
    if (data.keys.length !== 1) {
      throw new RangeError(`FindCoordinator v${version} carries exactly one key, got ${data.keys.length}`);
    }
    writeStr(w, flex, data.keys[0]);
  }
  if (version >= 1) w.writeInt8(data.keyType ?? 0);
  if (version >= 4) writeArr(w, flex, data.keys, (w2, k) => writeStr(w2, flex, k));
  writeTags(w, flex, data.taggedFields);
  return w;
}
