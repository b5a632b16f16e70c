import type { Reader, TaggedField } from './reader.ts';
import type { Writer } from './writer.ts';
import {
  checkVersion,
  NO_AUTHORIZED_OPERATIONS,
  readArr,
  readNullableStr,
  readStr,
  readTags,
  writeArr,
  writeNullableStr,
  writeStr,
  writeTags,
  ZERO_UUID,
} from './flexible.ts';

/*
 * Metadata response body (api key 3), v0–v12; flexible (compact + tagged) from v9.
 * Every struct in a flexible version ends in its own tagged fields.
 *
 *   throttle_time_ms      int32              v3+
 *   brokers               array
 *     node_id             int32
 *     host                string
 *     port                int32
 *     rack                nullable string    v1+
 *   cluster_id            nullable string    v2+
 *   controller_id         int32              v1+
 *   topics                array
 *     error_code          int16
 *     name                string             nullable from v12
 *     topic_id            uuid               v10+
 *     is_internal         bool               v1+
 *     partitions          array
 *       error_code        int16
 *       partition_index   int32
 *       leader_id         int32
 *       leader_epoch      int32              v7+
 *       replica_nodes     array of int32
 *       isr_nodes         array of int32
 *       offline_replicas  array of int32     v5+
 *     topic_authorized_operations  int32     v8+
 *   cluster_authorized_operations  int32     v8–v10
 *
 * Fields a version lacks take Kafka's defaults when decoded (throttle 0, rack
 * null, cluster id null, controller -1, leader epoch -1, no offline replicas,
 * authorized operations INT32_MIN, zero topic id) and are not written when encoded.
 */

export const METADATA_RESPONSE_MAX_VERSION = 12;

export interface MetadataBroker {
  nodeId: number;
  host: string;
  port: number;
  rack?: string | null;
  taggedFields?: TaggedField[];
}

export interface MetadataPartition {
  errorCode: number;
  partitionIndex: number;
  leaderId: number;
  leaderEpoch?: number;
  replicaNodes: number[];
  isrNodes: number[];
  offlineReplicas?: number[];
  taggedFields?: TaggedField[];
}

export interface MetadataTopic {
  errorCode: number;
  name: string | null;
  topicId?: Buffer;
  isInternal?: boolean;
  partitions: MetadataPartition[];
  topicAuthorizedOperations?: number;
  taggedFields?: TaggedField[];
}

export interface MetadataResponse {
  throttleTimeMs?: number;
  brokers: MetadataBroker[];
  clusterId?: string | null;
  controllerId?: number;
  topics: MetadataTopic[];
  clusterAuthorizedOperations?: number;
  taggedFields?: TaggedField[];
}

/** Decodes a Metadata response body (the part after the response header). */
export function decodeMetadataResponse(version: number, r: Reader): MetadataResponse {
  checkVersion('Metadata response', version, METADATA_RESPONSE_MAX_VERSION);
  const flex = version >= 9;
  const throttleTimeMs = version >= 3 ? r.readInt32() : 0;
  const brokers = readArr(r, flex, (r2): MetadataBroker => {
    const nodeId = r2.readInt32();
    const host = readStr(r2, flex);
    const port = r2.readInt32();
    const rack = version >= 1 ? readNullableStr(r2, flex) : null;
    return { nodeId, host, port, rack, taggedFields: readTags(r2, flex) };
  });
  const clusterId = version >= 2 ? readNullableStr(r, flex) : null;
  const controllerId = version >= 1 ? r.readInt32() : -1;
  const topics = readArr(r, flex, (r2) => decodeTopic(version, flex, r2));
  const clusterAuthorizedOperations = version >= 8 && version <= 10 ? r.readInt32() : NO_AUTHORIZED_OPERATIONS;
  const taggedFields = readTags(r, flex);
  return { throttleTimeMs, brokers, clusterId, controllerId, topics, clusterAuthorizedOperations, taggedFields };
}

function decodeTopic(version: number, flex: boolean, r: Reader): MetadataTopic {
  const errorCode = r.readInt16();
  const name = version >= 12 ? readNullableStr(r, flex) : readStr(r, flex);
  const topicId = version >= 10 ? Buffer.from(r.readUuid()) : ZERO_UUID;
  const isInternal = version >= 1 ? r.readBoolean() : false;
  const partitions = readArr(r, flex, (r2): MetadataPartition => {
    const errorCode = r2.readInt16();
    const partitionIndex = r2.readInt32();
    const leaderId = r2.readInt32();
    const leaderEpoch = version >= 7 ? r2.readInt32() : -1;
    const replicaNodes = readArr(r2, flex, (r3) => r3.readInt32());
    const isrNodes = readArr(r2, flex, (r3) => r3.readInt32());
    const offlineReplicas = version >= 5 ? readArr(r2, flex, (r3) => r3.readInt32()) : [];
    const taggedFields = readTags(r2, flex);
    return { errorCode, partitionIndex, leaderId, leaderEpoch, replicaNodes, isrNodes, offlineReplicas, taggedFields };
  });
  const topicAuthorizedOperations = version >= 8 ? r.readInt32() : NO_AUTHORIZED_OPERATIONS;
  const taggedFields = readTags(r, flex);
  return { errorCode, name, topicId, isInternal, partitions, topicAuthorizedOperations, taggedFields };
}

/** Encodes a Metadata response body; fields the version lacks are left out. */
export function encodeMetadataResponse(version: number, data: MetadataResponse, w: Writer): Writer {
  checkVersion('Metadata response', version, METADATA_RESPONSE_MAX_VERSION);
  const flex = version >= 9;
  if (version >= 3) w.writeInt32(data.throttleTimeMs ?? 0);
  writeArr(w, flex, data.brokers, (w2, b) => {
    w2.writeInt32(b.nodeId);
    writeStr(w2, flex, b.host);
    w2.writeInt32(b.port);
    if (version >= 1) writeNullableStr(w2, flex, b.rack ?? null);
    writeTags(w2, flex, b.taggedFields);
  });
  if (version >= 2) writeNullableStr(w, flex, data.clusterId ?? null);
  if (version >= 1) w.writeInt32(data.controllerId ?? -1);
  writeArr(w, flex, data.topics, (w2, t) => encodeTopic(version, flex, t, w2));
  if (version >= 8 && version <= 10) w.writeInt32(data.clusterAuthorizedOperations ?? NO_AUTHORIZED_OPERATIONS);
  writeTags(w, flex, data.taggedFields);
  return w;
}

function encodeTopic(version: number, flex: boolean, t: MetadataTopic, w: Writer): void {
  const ints = (w2: Writer, v: number) => void w2.writeInt32(v);
  w.writeInt16(t.errorCode);
  if (version >= 12) writeNullableStr(w, flex, t.name);
  else writeStr(w, flex, t.name ?? '');
  if (version >= 10) w.writeUuid(t.topicId ?? ZERO_UUID);
  if (version >= 1) w.writeBoolean(t.isInternal ?? false);
  writeArr(w, flex, t.partitions, (w2, p) => {
    w2.writeInt16(p.errorCode).writeInt32(p.partitionIndex).writeInt32(p.leaderId);
    if (version >= 7) w2.writeInt32(p.leaderEpoch ?? -1);
    writeArr(w2, flex, p.replicaNodes, ints);
    writeArr(w2, flex, p.isrNodes, ints);
    if (version >= 5) writeArr(w2, flex, p.offlineReplicas ?? [], ints);
    writeTags(w2, flex, p.taggedFields);
  });
  if (version >= 8) w.writeInt32(t.topicAuthorizedOperations ?? NO_AUTHORIZED_OPERATIONS);
  writeTags(w, flex, t.taggedFields);
}

/** The first non-zero error code in a decoded response (topic, then its partitions), or 0. */
export function metadataErrorCode(data: MetadataResponse): number {
  for (const t of data.topics) {
    if (t.errorCode !== 0) return t.errorCode;
    for (const p of t.partitions) if (p.errorCode !== 0) return p.errorCode;
  }
  return 0;
}
