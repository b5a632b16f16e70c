import type { Reader, TaggedField } from './reader.ts';
import type { Writer } from './writer.ts';
import {
  checkVersion,
  readNullableArr,
  readNullableStr,
  readStr,
  readTags,
  writeNullableArr,
  writeNullableStr,
  writeStr,
  writeTags,
  ZERO_UUID,
} from './flexible.ts';

/*
 * Metadata request body (api key 3), v0–v12; flexible (compact + tagged) from v9.
 *
 *   topics          array of topic       v0: empty means "all topics";
 *                                        v1+: nullable, null means "all topics", empty means none
 *     topic_id      uuid                 v10+
 *     name          string               nullable from v10
 *   allow_auto_topic_creation  bool      v4+
 *   include_cluster_authorized_operations  bool   v8–v10
 *   include_topic_authorized_operations    bool   v8+
 */

export const METADATA_REQUEST_MAX_VERSION = 12;

export interface MetadataRequestTopic {
  /** v10+; 16 zero bytes when unknown. */
  topicId?: Buffer;
  name: string | null;
  taggedFields?: TaggedField[];
}

export interface MetadataRequest {
  /** null asks for every topic (v0 writes that as an empty array). */
  topics: MetadataRequestTopic[] | null;
  allowAutoTopicCreation?: boolean;
  includeClusterAuthorizedOperations?: boolean;
  includeTopicAuthorizedOperations?: boolean;
  taggedFields?: TaggedField[];
}

/**
 * Decodes a Metadata request body. Every version-dependent field is filled in
 * (with Kafka's default where the version lacks it), so callers need not know
 * the version. A v0 empty topic list comes back as null: both mean "all topics".
 */
export function decodeMetadataRequest(version: number, r: Reader): Required<MetadataRequest> {
  checkVersion('Metadata request', version, METADATA_REQUEST_MAX_VERSION);
  const flexible = version >= 9;
  let topics = readNullableArr(r, flexible, (r2): MetadataRequestTopic => {
    const topicId = version >= 10 ? Buffer.from(r2.readUuid()) : ZERO_UUID;
    const name = version >= 10 ? readNullableStr(r2, flexible) : readStr(r2, flexible);
    return { topicId, name, taggedFields: readTags(r2, flexible) };
  });
  if (version === 0 && topics !== null && topics.length === 0) topics = null;
  const allowAutoTopicCreation = version >= 4 ? r.readBoolean() : true;
  const includeClusterAuthorizedOperations = version >= 8 && version <= 10 ? r.readBoolean() : false;
  const includeTopicAuthorizedOperations = version >= 8 ? r.readBoolean() : false;
  const taggedFields = readTags(r, flexible);
  return { topics, allowAutoTopicCreation, includeClusterAuthorizedOperations, includeTopicAuthorizedOperations, taggedFields };
}

export function encodeMetadataRequest(version: number, data: MetadataRequest, w: Writer): Writer {
  checkVersion('Metadata request', version, METADATA_REQUEST_MAX_VERSION);
  const flexible = version >= 9;
  // v0 has no null array; its "all topics" is the empty array.
  const topics = version === 0 && data.topics === null ? [] : data.topics;
  writeNullableArr(w, flexible, topics, (w2, t) => {
    if (version >= 10) w2.writeUuid(t.topicId ?? ZERO_UUID);
    if (version >= 10) writeNullableStr(w2, flexible, t.name);
    else writeStr(w2, flexible, t.name ?? '');
    writeTags(w2, flexible, t.taggedFields);
  });
  if (version >= 4) w.writeBoolean(data.allowAutoTopicCreation ?? true);
  if (version >= 8 && version <= 10) w.writeBoolean(data.includeClusterAuthorizedOperations ?? false);
  if (version >= 8) w.writeBoolean(data.includeTopicAuthorizedOperations ?? false);
  writeTags(w, flexible, data.taggedFields);
  return w;
}
